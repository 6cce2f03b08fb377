import { CompatibilityLevel, checkCompatibilityLevel } from './compatibility-level';
import { parseAvroType } from './avro-type';
import { RegisteredSchema, SchemaRegistry } from './schema-registry';
import { schemaCompatibilityIssues } from './schema-compatibility';
import {
  IncompatibleSchemaError,
  InvalidSchemaError,
  SchemaIdNotFoundError,
  SchemaVersionNotFoundError,
} from './errors/schema-registry.errors';

/** Options of {@link InMemorySchemaRegistry}. */
export interface InMemorySchemaRegistryOptions {
  /**
   * The level of subjects that have none set, like a registry's global level.
   * Defaults to `NONE`, what Apicurio ships with (Confluent ships with `BACKWARD`).
   */
  readonly defaultCompatibility?: CompatibilityLevel;
}

interface Subject {
  readonly versions: { readonly id: number; readonly version: number }[];
  compatibility?: CompatibilityLevel;
}

/**
 * A schema registry in memory, for unit tests, with the semantics of the
 * Confluent API as Apicurio serves it: one id per distinct schema text, shared
 * across subjects; registering a known schema returns its version; a subject's
 * compatibility can be set before its first version and is enforced on
 * registration with {@link schemaCompatibilityIssues}.
 *
 * @example
 * ```ts
 * const registry = new InMemorySchemaRegistry();
 * const serializer = new AvroSerializer({ registry, events: [OrderCreatedV1, OrderCreated] });
 * ```
 */
export class InMemorySchemaRegistry implements SchemaRegistry {
  private readonly defaultCompatibility: CompatibilityLevel;
  private readonly idsByText = new Map<string, number>();
  private readonly textsById = new Map<number, string>();
  private readonly subjectsByName = new Map<string, Subject>();

  constructor(options: InMemorySchemaRegistryOptions = {}) {
    this.defaultCompatibility = checkCompatibilityLevel(options.defaultCompatibility ?? 'NONE', 'defaultCompatibility');
  }

  async register(subject: string, schema: string): Promise<RegisteredSchema> {
    try {
      parseAvroType(schema);
    } catch (error) {
      throw new InvalidSchemaError(subject, error instanceof Error ? error.message : String(error));
    }
    const entry = this.subject(subject);
    const known = this.find(entry, schema);
    if (known) return known;

    const level = entry.compatibility ?? this.defaultCompatibility;
    const existing = entry.versions.map(({ id }) => this.textsById.get(id)!);
    const issues = schemaCompatibilityIssues(level, schema, existing);
    if (issues.length > 0) throw new IncompatibleSchemaError(subject, level, issues);

    let id = this.idsByText.get(schema);
    if (id === undefined) {
      id = this.idsByText.size + 1;
      this.idsByText.set(schema, id);
      this.textsById.set(id, schema);
    }
    const registered = { id, version: (entry.versions[entry.versions.length - 1]?.version ?? 0) + 1 };
    entry.versions.push(registered);
    return { ...registered };
  }

  async schemaById(id: number): Promise<string> {
    const text = this.textsById.get(id);
    if (text === undefined) throw new SchemaIdNotFoundError(id);
    return text;
  }

  async subjects(): Promise<string[]> {
    return [...this.subjectsByName].filter(([, entry]) => entry.versions.length > 0).map(([name]) => name);
  }

  async versions(subject: string): Promise<number[]> {
    return (this.subjectsByName.get(subject)?.versions ?? []).map(({ version }) => version);
  }

  async schemaByVersion(subject: string, version: number): Promise<RegisteredSchema & { readonly schema: string }> {
    const found = this.subjectsByName.get(subject)?.versions.find((candidate) => candidate.version === version);
    if (!found) throw new SchemaVersionNotFoundError(subject, version);
    return { ...found, schema: this.textsById.get(found.id)! };
  }

  async lookup(subject: string, schema: string): Promise<RegisteredSchema | undefined> {
    const entry = this.subjectsByName.get(subject);
    return entry ? this.find(entry, schema) : undefined;
  }

  async getCompatibility(subject: string): Promise<CompatibilityLevel | undefined> {
    const entry = this.subjectsByName.get(subject);
    if (!entry) return undefined;
    // Like Apicurio: a subject with versions but no level of its own reports the global one.
    return entry.compatibility ?? (entry.versions.length > 0 ? this.defaultCompatibility : undefined);
  }

  async setCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    this.subject(subject).compatibility = checkCompatibilityLevel(level, 'level');
  }

  async testCompatibility(subject: string, schema: string): Promise<boolean> {
    const entry = this.subjectsByName.get(subject);
    if (!entry) return true;
    const existing = entry.versions.map(({ id }) => this.textsById.get(id)!);
    return schemaCompatibilityIssues(entry.compatibility ?? this.defaultCompatibility, schema, existing).length === 0;
  }

  private subject(name: string): Subject {
    let entry = this.subjectsByName.get(name);
    if (!entry) {
      entry = { versions: [] };
      this.subjectsByName.set(name, entry);
    }
    return entry;
  }

  private find(entry: Subject, schema: string): RegisteredSchema | undefined {
    const id = this.idsByText.get(schema);
    const found = id === undefined ? undefined : entry.versions.find((candidate) => candidate.id === id);
    return found ? { ...found } : undefined;
  }
}
