/**
 * `tributary schemas check | register` against the real schema registry, with
 * the Order of packages/avro/test/support/order-history.ts evolving over three
 * stages: each stage registers what it writes, the check passes on compatible
 * changes, and fails, naming the event, field and rule, on an incompatible one
 * or on history that no longer has a path to today's classes.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import { exploreAggregate } from '@tributary/core';
import { AvroSchemaCatalog, ConfluentSchemaRegistry, IncompatibleSchemaError, SchemaGate } from '@tributary/avro';
import { EXIT, runCli, loadConfig } from '@tributary/cli';
import { TopicLayout } from '@tributary/kafka';
import { schemaRegistryUrl, uniqueName } from '../../../test-support/integration';

const fixture = (name: string) => join(__dirname, 'fixtures', `${name}.config.ts`);

async function tributary(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { stdout: (text) => (out += text), stderr: (text) => (err += text), env: { SCHEMA_REGISTRY_URL: schemaRegistryUrl() } });
  return { code, out, err };
}

describe('tributary schemas (real schema registry)', function () {
  this.timeout(60_000);
  const app = uniqueName('cli-schemas');
  const topic = new TopicLayout({ app, partitions: 1 }).events('Shop.Order');
  const subject = `${topic}-shop.OrderCreated`;

  before(() => {
    process.env.TRIBUTARY_CLI_TEST_APP = app;
  });

  it('registers each stage, setting BACKWARD_TRANSITIVE on new subjects', async () => {
    const first = await tributary('schemas', 'register', '--config', fixture('stage-1'));
    expect(first.err).to.equal('');
    expect(first.code).to.equal(EXIT.ok);
    expect(first.out).to.match(/registered .*shop\.OrderCreated Shop\.OrderCreated v1/);
    const again = await tributary('schemas', 'register', '--config', fixture('stage-1'));
    expect(again.out).to.match(/unchanged .*Shop\.OrderCreated v1/);

    const second = await tributary('schemas', 'register', '--config', fixture('stage-2'));
    expect(second.code, second.err).to.equal(EXIT.ok);
    const registry = new ConfluentSchemaRegistry({ url: schemaRegistryUrl() });
    expect(await registry.versions(subject)).to.deep.equal([1, 2]);
    expect(await registry.getCompatibility(subject)).to.equal('BACKWARD_TRANSITIVE');
  });

  it('passes a compatible evolution whose history has a path to today’s classes', async () => {
    const { code, out, err } = await tributary('schemas', 'check', '--config', fixture('stage-3'));
    expect(err).to.equal('');
    expect(out).to.include('Shop.OrderCreated v3').and.include('Shop.OrderPacked v1').and.include('all compatible');
    // The history: v1 is resolved to v2 then upcast; OrderShipped is split.
    expect(out).to.match(/✔ Shop\.OrderCreated v1 .*resolved to v2, then the upcaster from 'Shop\.OrderCreated' v2 runs/);
    expect(out).to.match(/✔ Shop\.OrderShipped v1 .*then the upcaster from 'Shop\.OrderShipped' v1 runs/);
    expect(code).to.equal(EXIT.ok);
  });

  it('fails an incompatible change, naming the event, the field and the rule; the registry refuses it too', async () => {
    const { code, out } = await tributary('schemas', 'check', '--config', fixture('incompatible'));
    expect(code).to.equal(EXIT.findings);
    expect(out).to.match(/✘ Shop\.OrderCreated v4 .*breaks BACKWARD_TRANSITIVE/);
    expect(out).to.match(/region\s+\S+\s+.*default/);

    const refused = await tributary('schemas', 'register', '--config', fixture('incompatible'));
    expect(refused.code).to.equal(EXIT.findings);
    expect(refused.err).to.include('region').and.include('INCOMPATIBLE_EVENT_SCHEMA');

    // Straight to the registry, past the gate: it refuses under the subject's rule.
    const registry = new ConfluentSchemaRegistry({ url: schemaRegistryUrl() });
    const config = loadConfig(fixture('incompatible'));
    const v4 = new AvroSchemaCatalog(config.events!).schemaFor('Shop.OrderCreated', 4)!;
    const error = await registry.register(subject, JSON.stringify(v4.schema())).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(IncompatibleSchemaError);
    expect(await registry.versions(subject)).to.deep.equal([1, 2]);
  });

  it('fails when history has no path to today’s classes, at check and at start-up', async () => {
    const { code, out } = await tributary('schemas', 'check', '--config', fixture('forgotten-upcaster'));
    expect(code).to.equal(EXIT.findings);
    expect(out).to.match(/✘ Shop\.OrderShipped v1 .*cannot be read/);

    const config = loadConfig(fixture('forgotten-upcaster'));
    const gate = new SchemaGate({
      registry: new ConfluentSchemaRegistry({ url: schemaRegistryUrl() }),
      events: config.events!,
      topics: [{ topic, eventClasses: exploreAggregate(config.aggregates[0]).eventClasses }],
      upcasters: config.upcasters,
    });
    const error = await gate.verify().catch((caught: unknown) => caught);
    expect(error).to.have.property('code', 'EVENT_SCHEMA_GAP');
    expect((error as Error).message).to.include('Shop.OrderShipped v1');
  });

  it('says what to do when the configuration is missing', async () => {
    const { code, err } = await tributary('schemas', 'check', '--config', 'no-such.config.js');
    expect(code).to.equal(EXIT.usage);
    expect(err).to.include('No Tributary configuration at').and.include('CONFIG_FILE_NOT_FOUND');
  });
});
