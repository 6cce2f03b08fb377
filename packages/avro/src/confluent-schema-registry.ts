import { InvalidOptionError, RetriesExhaustedError, RetryPolicy, retryPolicy, withRetry } from '@tributary/core';
import { CompatibilityLevel, checkCompatibilityLevel, isCompatibilityLevel } from './compatibility-level';
import { RegisteredSchema, SchemaRegistry } from './schema-registry';
import { CompatibilityIssue, schemaCompatibilityIssues } from './schema-compatibility';
import {
  CompatibilityLevelConflictError,
  IncompatibleSchemaError,
  InvalidSchemaError,
  SchemaIdNotFoundError,
  SchemaRegistryRequestError,
  SchemaRegistryUnavailableError,
  SchemaVersionNotFoundError,
} from './errors/schema-registry.errors';

/** Options of {@link ConfluentSchemaRegistry}. */
export interface ConfluentSchemaRegistryOptions {
  /** Base URL of the Confluent-compatible API, e.g. `http://localhost:8081` or Apicurio's `http://host:8080/apis/ccompat/v7`. */
  readonly url: string;
  /** How to retry when the registry is unreachable or answers 5xx, 408 or 429. Defaults to core's DEFAULT_RETRY_POLICY. */
  readonly retry?: Partial<RetryPolicy>;
  /** How long one HTTP request may take, in milliseconds. Defaults to 10 000. */
  readonly requestTimeoutMs?: number;
  /** Sent with every request, e.g. `{ authorization: 'Basic …' }`. */
  readonly headers?: Readonly<Record<string, string>>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown> & { message?: string; error_code?: number };
  readonly data: unknown;
}

/**
 * A {@link SchemaRegistry} over the Confluent Schema Registry REST API, as
 * served by Confluent and by Apicurio Registry 3 at `/apis/ccompat/v7`.
 *
 * Speaks plain `fetch` so that a registry that is down (retriable, retried
 * here with core's backoff) is told apart from one that refuses a request
 * (typed, not retried). Apicurio's differences are handled: its ids are
 * content ids; `PUT /config` accepts only the `compatibility` field and
 * answers `compatibilityLevel`; its compatibility test against `latest`
 * ignores `_TRANSITIVE` levels, so those are tested against all versions;
 * it refuses all but one of simultaneous first settings of a subject's level
 * (HTTP 409), which count as done when the level is the one asked for.
 * Never uses Apicurio's own serdes (8-byte ids).
 *
 * Registration and setting a level are idempotent, also when many processes
 * do them at once for a new subject.
 *
 * @example
 * ```ts
 * const registry = new ConfluentSchemaRegistry({ url: process.env.SCHEMA_REGISTRY_URL! });
 * const serializer = new AvroSerializer({ registry, events: [OrderCreatedV1, OrderCreated] });
 * ```
 */
export class ConfluentSchemaRegistry implements SchemaRegistry {
  private readonly url: string;
  private readonly retry: RetryPolicy;
  private readonly requestTimeoutMs: number;
  private readonly headers: Readonly<Record<string, string>>;

  constructor(options: ConfluentSchemaRegistryOptions) {
    if (typeof options.url !== 'string' || !/^https?:\/\/\S+$/.test(options.url)) {
      throw new InvalidOptionError(`The schema registry url must be an http(s) URL such as http://localhost:8081, got ${JSON.stringify(options.url)}`);
    }
    const timeout = options.requestTimeoutMs ?? 10_000;
    if (!(timeout > 0)) throw new InvalidOptionError(`requestTimeoutMs must be a positive number of milliseconds, got ${timeout}`);
    this.url = options.url.replace(/\/+$/, '');
    this.retry = retryPolicy(options.retry);
    this.requestTimeoutMs = timeout;
    this.headers = options.headers ?? {};
  }

  async register(subject: string, schema: string): Promise<RegisteredSchema> {
    const operation = `registering a schema under subject ${subject}`;
    const answer = await this.send(operation, 'POST', `/subjects/${encode(subject)}/versions`, { schema });
    if (answer.status === 409) {
      // A registration racing this one may have created the subject with this very schema: then it is registered.
      const registered = await this.lookup(subject, schema);
      if (registered) return registered;
      const level = await this.getCompatibility(subject).catch(() => undefined);
      throw new IncompatibleSchemaError(subject, level, await this.issuesFor(subject, level, schema), answer.body.message);
    }
    if (isInvalidSchema(answer)) throw new InvalidSchemaError(subject, answer.body.message ?? 'no reason given');
    this.expectOk(operation, answer);
    // Confluent answers only the id; the version takes a lookup.
    const registered = await this.lookup(subject, schema);
    if (!registered) {
      throw new SchemaRegistryRequestError(operation, answer.status, undefined, `the registry gave id ${String(answer.body.id)} but cannot find the schema under ${subject}`);
    }
    return registered;
  }

  async schemaById(id: number): Promise<string> {
    const operation = `fetching schema ${id}`;
    const answer = await this.send(operation, 'GET', `/schemas/ids/${encode(String(id))}`);
    if (answer.status === 404) throw new SchemaIdNotFoundError(id);
    this.expectOk(operation, answer);
    return String(answer.body.schema);
  }

  async subjects(): Promise<string[]> {
    const operation = 'listing subjects';
    const answer = await this.send(operation, 'GET', '/subjects');
    this.expectOk(operation, answer);
    return answer.data as string[];
  }

  async versions(subject: string): Promise<number[]> {
    const operation = `listing the versions of subject ${subject}`;
    const answer = await this.send(operation, 'GET', `/subjects/${encode(subject)}/versions`);
    if (answer.status === 404) return [];
    this.expectOk(operation, answer);
    return (answer.data as number[]).slice().sort((a, b) => a - b);
  }

  async schemaByVersion(subject: string, version: number): Promise<RegisteredSchema & { readonly schema: string }> {
    const operation = `fetching version ${version} of subject ${subject}`;
    const answer = await this.send(operation, 'GET', `/subjects/${encode(subject)}/versions/${encode(String(version))}`);
    if (answer.status === 404) throw new SchemaVersionNotFoundError(subject, version);
    this.expectOk(operation, answer);
    return { id: Number(answer.body.id), version: Number(answer.body.version), schema: String(answer.body.schema) };
  }

  async lookup(subject: string, schema: string): Promise<RegisteredSchema | undefined> {
    const operation = `looking up a schema under subject ${subject}`;
    const answer = await this.send(operation, 'POST', `/subjects/${encode(subject)}`, { schema });
    if (answer.status === 404) return undefined;
    if (isInvalidSchema(answer)) throw new InvalidSchemaError(subject, answer.body.message ?? 'no reason given');
    this.expectOk(operation, answer);
    return { id: Number(answer.body.id), version: Number(answer.body.version) };
  }

  async getCompatibility(subject: string): Promise<CompatibilityLevel | undefined> {
    const operation = `reading the compatibility of subject ${subject}`;
    const answer = await this.send(operation, 'GET', `/config/${encode(subject)}`);
    // Apicurio: 40401 for a subject it does not know; Confluent: 40408 for one without a level of its own.
    if (answer.status === 404) return undefined;
    this.expectOk(operation, answer);
    // Confluent and Apicurio answer `compatibilityLevel`; accept `compatibility` too, the field PUT takes.
    const level = answer.body.compatibilityLevel ?? answer.body.compatibility;
    if (!isCompatibilityLevel(level)) {
      throw new SchemaRegistryRequestError(operation, answer.status, undefined, `unexpected compatibility ${JSON.stringify(level)}`);
    }
    return level;
  }

  async setCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    checkCompatibilityLevel(level, 'level');
    const operation = `setting the compatibility of subject ${subject} to ${level}`;
    // Apicurio answers HTTP 500 "Name is null" to `compatibilityLevel`; both registries take `compatibility`.
    const answer = await this.send(operation, 'PUT', `/config/${encode(subject)}`, { compatibility: level });
    if (answer.status === 409) {
      // Apicurio, when another client created the subject's rule at the same moment: "A rule named 'COMPATIBILITY' already exists".
      const current = await this.getCompatibility(subject);
      if (current === level) return;
      if (current !== undefined) throw new CompatibilityLevelConflictError(subject, level, current);
    }
    this.expectOk(operation, answer);
  }

  async testCompatibility(subject: string, schema: string): Promise<boolean> {
    if ((await this.versions(subject)).length === 0) return true;
    const level = await this.getCompatibility(subject);
    // Apicurio checks against `latest` only, whatever the level; the versions collection means all of them.
    const target = level?.endsWith('_TRANSITIVE') ? 'versions' : 'versions/latest';
    const operation = `testing a schema's compatibility with subject ${subject}`;
    const answer = await this.send(operation, 'POST', `/compatibility/subjects/${encode(subject)}/${target}`, { schema });
    if (isInvalidSchema(answer)) throw new InvalidSchemaError(subject, answer.body.message ?? 'no reason given');
    this.expectOk(operation, answer);
    return answer.body.is_compatible === true;
  }

  /** The local checker's findings, for an error message; best effort, since the registry already refused. */
  private async issuesFor(subject: string, level: CompatibilityLevel | undefined, schema: string): Promise<CompatibilityIssue[]> {
    if (!level) return [];
    try {
      const versions = await this.versions(subject);
      const existing = await Promise.all(versions.map(async (version) => (await this.schemaByVersion(subject, version)).schema));
      return schemaCompatibilityIssues(level, schema, existing);
    } catch {
      return [];
    }
  }

  private expectOk(operation: string, answer: Answer): void {
    if (answer.status >= 200 && answer.status < 300) return;
    throw new SchemaRegistryRequestError(operation, answer.status, answer.body.error_code, answer.body.message ?? JSON.stringify(answer.data));
  }

  private async send(operation: string, method: string, path: string, body?: object): Promise<Answer> {
    try {
      return await this.sendWithRetry(operation, method, path, body);
    } catch (error) {
      // Out of retries, the registry is still only down: keep the error retriable, so a command that needed it says so.
      if (error instanceof RetriesExhaustedError && error.cause instanceof SchemaRegistryUnavailableError) {
        const last = error.cause;
        throw new SchemaRegistryUnavailableError(this.url, operation, last.status, last.cause, error.attempts);
      }
      throw error;
    }
  }

  private sendWithRetry(operation: string, method: string, path: string, body?: object): Promise<Answer> {
    return withRetry(operation, this.retry, async () => {
      let response: Response;
      try {
        response = await fetch(`${this.url}${path}`, {
          method,
          headers: { accept: `${CONTENT_TYPE}, application/json`, ...(body ? { 'content-type': CONTENT_TYPE } : {}), ...this.headers },
          body: body ? JSON.stringify(body) : undefined,
          signal: AbortSignal.timeout(this.requestTimeoutMs),
        });
      } catch (error) {
        throw new SchemaRegistryUnavailableError(this.url, operation, undefined, error);
      }
      const text = await response.text().catch(() => '');
      let data: unknown = text;
      try {
        data = text ? JSON.parse(text) : undefined;
      } catch {
        // Not JSON, e.g. a proxy's error page: keep the text for the message.
      }
      const answer: Answer = { status: response.status, data, body: isObject(data) ? data : { message: text || undefined } };
      if (response.status >= 500 || response.status === 408 || response.status === 429) {
        throw new SchemaRegistryUnavailableError(this.url, operation, response.status, new Error(answer.body.message ?? text));
      }
      return answer;
    });
  }
}

function encode(segment: string): string {
  return encodeURIComponent(segment);
}

function isObject(value: unknown): value is Answer['body'] {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** 422 (Confluent 42201 "invalid schema"; Apicurio "Failed to discover artifact type"). */
function isInvalidSchema(answer: Answer): boolean {
  const code = answer.body.error_code;
  return answer.status === 422 || (typeof code === 'number' && code >= 42200 && code < 42300);
}
