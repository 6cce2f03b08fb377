import { CompatibilityLevel, RegisteredSchema, SchemaRegistry } from '@tributary/avro';

/**
 * Holds `setCompatibility` calls until `parties` of them have arrived, across
 * the registries sharing it, then lets them through together.
 */
export class LineUp {
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly parties: number) {}

  arrive(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (this.waiting.length === this.parties) for (const release of this.waiting.splice(0)) release();
    });
  }
}

/**
 * A real registry whose `setCompatibility` calls wait in a {@link LineUp}.
 * Writers that start together reach the registry together only sometimes;
 * lined up, their first-write settings collide every time, so a race test
 * cannot pass by luck. Everything else goes straight to the registry.
 */
export class LinedUpSchemaRegistry implements SchemaRegistry {
  constructor(
    private readonly inner: SchemaRegistry,
    private readonly lineUp: LineUp,
  ) {}

  async setCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    await this.lineUp.arrive();
    return this.inner.setCompatibility(subject, level);
  }
  register(subject: string, schema: string): Promise<RegisteredSchema> {
    return this.inner.register(subject, schema);
  }
  schemaById(id: number): Promise<string> {
    return this.inner.schemaById(id);
  }
  subjects(): Promise<string[]> {
    return this.inner.subjects();
  }
  versions(subject: string): Promise<number[]> {
    return this.inner.versions(subject);
  }
  schemaByVersion(subject: string, version: number): Promise<RegisteredSchema & { readonly schema: string }> {
    return this.inner.schemaByVersion(subject, version);
  }
  lookup(subject: string, schema: string): Promise<RegisteredSchema | undefined> {
    return this.inner.lookup(subject, schema);
  }
  getCompatibility(subject: string): Promise<CompatibilityLevel | undefined> {
    return this.inner.getCompatibility(subject);
  }
  testCompatibility(subject: string, schema: string): Promise<boolean> {
    return this.inner.testCompatibility(subject, schema);
  }
}
