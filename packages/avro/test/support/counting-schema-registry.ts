import { CompatibilityLevel, RegisteredSchema, SchemaRegistry } from '@tributary/avro';

/** Wraps a registry, counting calls per method, and can be made to fail: to test caches and outages. */
export class CountingSchemaRegistry implements SchemaRegistry {
  readonly calls: Record<string, number> = {};
  /** When set, every call throws it (the registry is "down"). */
  failWith: Error | undefined;

  constructor(private readonly inner: SchemaRegistry) {}

  register(subject: string, schema: string): Promise<RegisteredSchema> {
    return this.count('register', () => this.inner.register(subject, schema));
  }
  schemaById(id: number): Promise<string> {
    return this.count('schemaById', () => this.inner.schemaById(id));
  }
  subjects(): Promise<string[]> {
    return this.count('subjects', () => this.inner.subjects());
  }
  versions(subject: string): Promise<number[]> {
    return this.count('versions', () => this.inner.versions(subject));
  }
  schemaByVersion(subject: string, version: number): Promise<RegisteredSchema & { readonly schema: string }> {
    return this.count('schemaByVersion', () => this.inner.schemaByVersion(subject, version));
  }
  lookup(subject: string, schema: string): Promise<RegisteredSchema | undefined> {
    return this.count('lookup', () => this.inner.lookup(subject, schema));
  }
  getCompatibility(subject: string): Promise<CompatibilityLevel | undefined> {
    return this.count('getCompatibility', () => this.inner.getCompatibility(subject));
  }
  setCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    return this.count('setCompatibility', () => this.inner.setCompatibility(subject, level));
  }
  testCompatibility(subject: string, schema: string): Promise<boolean> {
    return this.count('testCompatibility', () => this.inner.testCompatibility(subject, schema));
  }

  callsTo(method: string): number {
    return this.calls[method] ?? 0;
  }

  private async count<T>(method: string, call: () => Promise<T>): Promise<T> {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    if (this.failWith) throw this.failWith;
    return call();
  }
}
