/**
 * How ConfluentSchemaRegistry reads answers that the shared test registry
 * cannot be made to give on demand: a 409 from a simultaneous first setting of
 * a subject's level, server errors, refusals, a registry that is down. A local
 * HTTP server plays the registry; the integration tests use the real one.
 */
import { AvroSchema, AvroSerializer, CompatibilityLevelConflictError, ConfluentSchemaRegistry, SchemaRegistryRequestError, SchemaRegistryUnavailableError } from '@tributary/avro';
import { Event, TributaryError } from '@tributary/core';
import { expect } from 'chai';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo, createServer as createTcpServer } from 'node:net';

type Handler = (request: IncomingMessage, body: string) => { status: number; body?: unknown };

/** A registry stand-in on a local port: answers with `handler`, and counts requests. */
class ScriptedRegistry {
  readonly requests: string[] = [];
  private server: Server | undefined;

  constructor(private readonly handler: Handler) {}

  async start(): Promise<string> {
    this.server = createServer((request: IncomingMessage, response: ServerResponse) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        this.requests.push(`${request.method} ${request.url}`);
        const answer = this.handler(request, body);
        response.writeHead(answer.status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
        response.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

const RULE_EXISTS = { status: 409, body: { message: "A rule named 'COMPATIBILITY' already exists.", error_code: 0 } };
const fastRetry = { retries: 2, initialDelayMs: 1, maxDelayMs: 2 };

async function failure(promise: Promise<unknown>): Promise<TributaryError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'an error').to.be.instanceOf(TributaryError);
  return error as TributaryError;
}

describe('ConfluentSchemaRegistry answers', () => {
  let stub: ScriptedRegistry | undefined;
  afterEach(async () => {
    await stub?.stop();
    stub = undefined;
  });

  async function registryAnswering(handler: Handler): Promise<ConfluentSchemaRegistry> {
    stub = new ScriptedRegistry(handler);
    return new ConfluentSchemaRegistry({ url: await stub.start(), retry: fastRetry });
  }

  it('takes a 409 "rule already exists" for success when the subject has the level asked for', async () => {
    const registry = await registryAnswering((request) => (request.method === 'PUT' ? RULE_EXISTS : { status: 200, body: { compatibilityLevel: 'BACKWARD_TRANSITIVE' } }));

    await registry.setCompatibility('shop.events-shop.OrderCreated', 'BACKWARD_TRANSITIVE');

    expect(stub!.requests).to.deep.equal(['PUT /config/shop.events-shop.OrderCreated', 'GET /config/shop.events-shop.OrderCreated']);
  });

  it('refuses with CompatibilityLevelConflictError when another client set a different level at the same moment', async () => {
    const registry = await registryAnswering((request) => (request.method === 'PUT' ? RULE_EXISTS : { status: 200, body: { compatibilityLevel: 'FULL' } }));

    const error = await failure(registry.setCompatibility('shop.events-shop.OrderCreated', 'BACKWARD_TRANSITIVE'));

    expect(error).to.be.instanceOf(CompatibilityLevelConflictError);
    expect(error).to.include({ code: 'SCHEMA_COMPATIBILITY_CONFLICT', retriable: false, subject: 'shop.events-shop.OrderCreated', requested: 'BACKWARD_TRANSITIVE', current: 'FULL' });
    expect(error.message).to.contain('shop.events-shop.OrderCreated').and.contain('FULL').and.contain('BACKWARD_TRANSITIVE').and.contain('compatibility option');
  });

  it('returns the registration a racing client made when registering answers 409', async () => {
    const registry = await registryAnswering((request) =>
      request.url!.endsWith('/versions') ? { status: 409, body: { message: 'Artifact already exists', error_code: 40901 } } : { status: 200, body: { id: 7, version: 1 } },
    );

    expect(await registry.register('shop.events-shop.OrderCreated', '"string"')).to.deep.equal({ id: 7, version: 1 });
  });

  it('retries a 5xx, then fails with a retriable SchemaRegistryUnavailableError saying how often it tried', async () => {
    const registry = await registryAnswering(() => ({ status: 503, body: { message: 'starting up' } }));

    const error = await failure(registry.versions('shop.events-shop.OrderCreated'));

    expect(error).to.be.instanceOf(SchemaRegistryUnavailableError);
    expect(error).to.include({ retriable: true, status: 503, attempts: 3 });
    expect(error.message).to.contain('HTTP 503').and.contain('after 3 attempts');
    expect(stub!.requests).to.have.length(3);
  });

  it('fails a 4xx refusal at once, not retriable', async () => {
    const registry = await registryAnswering(() => ({ status: 401, body: { message: 'Unauthorized', error_code: 40101 } }));

    const error = await failure(registry.versions('shop.events-shop.OrderCreated'));

    expect(error).to.be.instanceOf(SchemaRegistryRequestError);
    expect(error.retriable).to.equal(false);
    expect(stub!.requests).to.have.length(1);
  });

  it('fails retriably when nothing listens, and so does a first write that needs the registry', async () => {
    @Event('AvroClientTest.ParcelSent', { version: 1 })
    @AvroSchema({ type: 'record', name: 'ParcelSent', namespace: 'avroclienttest', fields: [{ name: 'parcelId', type: 'string' }] })
    class ParcelSent {}
    const down = new ConfluentSchemaRegistry({ url: `http://127.0.0.1:${await closedPort()}`, retry: fastRetry });
    const serializer = new AvroSerializer({ registry: down, events: [ParcelSent] });

    const lookup = await failure(down.lookup('shop.events-avroclienttest.ParcelSent', '"string"'));
    const write = await failure(serializer.serialize({ parcelId: 'p-1' }, { topic: 'shop.events', type: 'AvroClientTest.ParcelSent', schemaVersion: 1 }));

    for (const error of [lookup, write]) {
      expect(error).to.be.instanceOf(SchemaRegistryUnavailableError);
      expect(error).to.include({ retriable: true, attempts: 3 });
      expect(error.message).to.contain('no answer');
    }
  });
});

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
