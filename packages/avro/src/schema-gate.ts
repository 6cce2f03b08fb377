import * as avsc from 'avsc';
import { AnyClass, EventRegistry, TributaryError, Upcaster, UpcasterChain, getMetadataStorage } from '@tributary/core';
import { AvroSchemaCatalog } from './avro-schema-catalog';
import { parseAvroType, schemaText } from './avro-type';
import { CompatibilityIssue, schemaCompatibilityIssues } from './schema-compatibility';
import { CompatibilityLevel, DEFAULT_COMPATIBILITY_LEVEL } from './compatibility-level';
import { SchemaRegistry } from './schema-registry';
import { subjectFor } from './subject-name';
import { EventSchemaGapError, IncompatibleEventSchemaError } from './errors/schema-gate.errors';

/** An events topic and the event classes written to it today. */
export interface EventTopic {
  readonly topic: string;
  readonly eventClasses: readonly AnyClass[];
}

/** Options of {@link SchemaGate}. */
export interface SchemaGateOptions {
  readonly registry: SchemaRegistry;
  /** Every event class, past versions included, each with its `@AvroSchema`. */
  readonly events: Iterable<AnyClass>;
  /** The events topics, each with the classes written to it now. */
  readonly topics: readonly EventTopic[];
  /** The upcasters that carry past versions to the current classes. */
  readonly upcasters?: Iterable<Upcaster>;
  /** Set on subjects that have none of their own. Defaults to `BACKWARD_TRANSITIVE`. */
  readonly compatibility?: CompatibilityLevel;
}

/**
 * What the gate found for one schema: a current one (is it registered, would it
 * be accepted) or one in the registry (can it still be read).
 */
export interface SchemaFinding {
  readonly subject: string;
  readonly type: string;
  /** The event version; for a registry schema that matches no declared version, the subject version. */
  readonly version: number;
  /**
   * `registered`: the current schema is in the registry; `new`: it is not yet, and
   * is compatible; `readable`: a registry version has a path to a current class;
   * `incompatible`: the current schema breaks the subject's rule; `gap`: a registry
   * version cannot be read into any current class.
   */
  readonly kind: 'registered' | 'new' | 'readable' | 'incompatible' | 'gap';
  readonly message: string;
  readonly issues: readonly CompatibilityIssue[];
}

export interface SchemaCheckReport {
  readonly findings: readonly SchemaFinding[];
  /** No `incompatible` or `gap` finding. */
  readonly ok: boolean;
}

export interface SchemaRegistration {
  readonly subject: string;
  readonly type: string;
  readonly version: number;
  readonly id: number;
  /** The subject version the registry gave it. */
  readonly registryVersion: number;
  /** False when it was registered already. */
  readonly created: boolean;
}

/**
 * Protects the event history of a team: compares the schemas declared in the
 * code with the registry's, before anything is deployed (`tributary schemas
 * check`), registers them (`tributary schemas register`), and at start-up
 * refuses to run when a version in the registry has no path to a current class
 * ({@link SchemaGate.verify}).
 *
 * The registry says only that a schema is incompatible; the gate also says
 * which field and which rule, from its own check.
 */
export class SchemaGate {
  private readonly registry: SchemaRegistry;
  private readonly catalog: AvroSchemaCatalog;
  private readonly chain: UpcasterChain;
  private readonly topics: readonly EventTopic[];
  private readonly compatibility: CompatibilityLevel;
  /** `type@version` of every event class written today. */
  private readonly written: ReadonlySet<string>;

  constructor(options: SchemaGateOptions) {
    const events = [...options.events];
    this.registry = options.registry;
    this.catalog = new AvroSchemaCatalog(events);
    this.chain = new UpcasterChain(options.upcasters ?? [], new EventRegistry(events));
    this.topics = options.topics;
    this.compatibility = options.compatibility ?? DEFAULT_COMPATIBILITY_LEVEL;
    this.written = new Set(
      options.topics.flatMap((topic) =>
        topic.eventClasses.map((eventClass) => getMetadataStorage().findEvent(eventClass)).flatMap((event) => (event ? [`${event.type}@${event.version}`] : [])),
      ),
    );
  }

  /** Every finding, without changing the registry. */
  async check(): Promise<SchemaCheckReport> {
    const findings = [...(await this.checkCurrent()), ...(await this.checkHistory())];
    return { findings, ok: findings.every((finding) => finding.kind !== 'incompatible' && finding.kind !== 'gap') };
  }

  /**
   * Fails fast when a version in the registry has no path (Avro resolution, or
   * upcasters and resolution) to a current class.
   * @throws {@link EventSchemaGapError} naming every gap.
   */
  async verify(): Promise<void> {
    const gaps = (await this.checkHistory()).filter((finding) => finding.kind === 'gap');
    if (gaps.length > 0) throw new EventSchemaGapError(gaps.map((gap) => `${gap.type} v${gap.version} in ${gap.subject}: ${gap.message}`));
  }

  /**
   * Sets the compatibility of subjects that have none and registers the current
   * schema of every event.
   * @throws {@link IncompatibleEventSchemaError} before registering anything, naming each field and rule.
   */
  async register(): Promise<SchemaRegistration[]> {
    const current = await this.checkCurrent();
    const refused = current.filter((finding) => finding.kind === 'incompatible');
    if (refused.length > 0) throw new IncompatibleEventSchemaError(refused.map((finding) => describeFinding(finding)));
    const registered: SchemaRegistration[] = [];
    for (const { subject, type, version, text, existing } of await this.currentSchemas()) {
      if (existing.length === 0 && (await this.registry.getCompatibility(subject)) === undefined) {
        await this.registry.setCompatibility(subject, this.compatibility);
      }
      const known = await this.registry.lookup(subject, text);
      const { id, version: registryVersion } = known ?? (await this.registry.register(subject, text));
      registered.push({ subject, type, version, id, registryVersion, created: !known });
    }
    return registered;
  }

  private async currentSchemas(): Promise<Array<{ subject: string; type: string; version: number; schema: avsc.Type; text: string; existing: string[] }>> {
    const schemas = [];
    for (const { topic, eventClasses } of this.topics) {
      for (const eventClass of eventClasses) {
        const event = getMetadataStorage().findEvent(eventClass);
        if (!event) continue;
        const schema = this.catalog.schemaFor(event.type, event.version);
        if (!schema) continue; // The catalog refused the class already, naming it.
        const subject = subjectFor(topic, this.catalog.fullNameOf(event.type));
        const existing: string[] = [];
        for (const version of await this.registry.versions(subject)) existing.push((await this.registry.schemaByVersion(subject, version)).schema);
        schemas.push({ subject, type: event.type, version: event.version, schema, text: schemaText(schema), existing });
      }
    }
    return schemas;
  }

  private async checkCurrent(): Promise<SchemaFinding[]> {
    const findings: SchemaFinding[] = [];
    for (const { subject, type, version, schema, text, existing } of await this.currentSchemas()) {
      const known = existing.length > 0 ? await this.registry.lookup(subject, text) : undefined;
      if (known) {
        findings.push({ subject, type, version, kind: 'registered', issues: [], message: `registered, schema id ${known.id}, subject version ${known.version}` });
        continue;
      }
      const level = (await this.registry.getCompatibility(subject)) ?? this.compatibility;
      const issues = schemaCompatibilityIssues(level, schema, existing);
      if (issues.length === 0 && existing.length > 0 && !(await this.registry.testCompatibility(subject, text))) {
        issues.push({ path: '(schema)', rule: 'REGISTRY_REFUSED', message: `the registry refuses it under ${level}, without saying which field` });
      }
      findings.push(
        issues.length > 0
          ? { subject, type, version, kind: 'incompatible', issues, message: `breaks ${level} against the ${existing.length} registered version(s); keep the old shape readable (a default, an alias) or make it a new event type with an upcaster` }
          : { subject, type, version, kind: 'new', issues: [], message: existing.length === 0 ? 'a new subject; `tributary schemas register` registers it' : `compatible (${level}) with the ${existing.length} registered version(s); not registered yet` },
      );
    }
    return findings;
  }

  /** Every schema in the registry under the topics: can each still be read into a current class? */
  private async checkHistory(): Promise<SchemaFinding[]> {
    const findings: SchemaFinding[] = [];
    const subjects = await this.registry.subjects();
    for (const { topic } of this.topics) {
      for (const subject of subjects.filter((name) => name.startsWith(`${topic}-`))) {
        for (const registryVersion of await this.registry.versions(subject)) {
          const { schema } = await this.registry.schemaByVersion(subject, registryVersion);
          findings.push(this.pathOf(subject, registryVersion, parseAvroType(schema)));
        }
      }
    }
    return findings;
  }

  private pathOf(subject: string, registryVersion: number, writer: avsc.Type): SchemaFinding {
    const fullName = writer.name ?? '';
    const type = this.catalog.typeOfFullName(fullName);
    if (type === undefined) {
      return {
        subject,
        type: fullName,
        version: registryVersion,
        kind: 'gap',
        issues: [],
        message: `subject version ${registryVersion} holds record ${fullName}, which no event class declares; declare it (@Event and @AvroSchema) and an upcaster to today's events`,
      };
    }
    const canonical = writer.schema();
    const declared = this.catalog.versionsOf(type).find((version) => sameSchema(this.catalog.schemaFor(type, version)!.schema(), canonical));
    // A registry schema no class declares could be any version: it must read into one of them.
    const candidates = declared !== undefined ? [declared] : [...this.catalog.versionsOf(type)].reverse();
    const problems: string[] = [];
    for (const version of candidates) {
      let readerVersion: number;
      try {
        readerVersion = this.chain.readerVersion(type, version);
      } catch (error) {
        problems.push(error instanceof TributaryError ? error.message : String(error));
        continue;
      }
      const reader = this.catalog.schemaFor(type, readerVersion);
      if (!reader) {
        problems.push(`no schema is declared for ${type} v${readerVersion}, which v${version} must be read as`);
        continue;
      }
      try {
        reader.createResolver(writer);
      } catch (error) {
        problems.push(`Avro cannot resolve it to ${type} v${readerVersion}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      const current = this.chain.currentVersion(type);
      if (readerVersion === current && !this.written.has(`${type}@${current}`)) {
        // Its class is declared only to read history, and no upcaster carries it on: nothing applies it today.
        problems.push(`${type} v${current} is declared, but no aggregate applies it today; add an upcaster from ${type} v${current} to the events that replaced it`);
        continue;
      }
      const steps = this.chain.explain(type, readerVersion);
      return {
        subject,
        type,
        version: declared ?? registryVersion,
        kind: 'readable',
        issues: [],
        message: `subject version ${registryVersion}: ${readerVersion === version && declared !== undefined ? 'read' : `resolved to v${readerVersion}`}${steps.length > 0 ? `, then ${steps.join(', then ')}` : ''}`,
      };
    }
    return {
      subject,
      type,
      version: declared ?? registryVersion,
      kind: 'gap',
      issues: [],
      message: `subject version ${registryVersion} cannot be read into a current class: ${problems.join('; ')}`,
    };
  }
}

function sameSchema(left: avsc.Schema, right: avsc.Schema): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

function describeFinding(finding: SchemaFinding): string {
  return [`${finding.type} v${finding.version} (${finding.subject}): ${finding.message}`, ...finding.issues.map((issue) => `  ${issue.path}: ${issue.rule}: ${issue.message}`)].join('\n');
}
