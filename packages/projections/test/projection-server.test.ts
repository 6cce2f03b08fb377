import { expect } from 'chai';
import { InMemoryReadModelStore, InvalidOptionError } from '@tributary/core';
import { ProjectionHealth, ProjectionMetrics, ProjectionRunner, ProjectionServer, ProjectionStatus, serveProjections } from '@tributary/projections';
import { InMemoryOrderSummary } from './support/order-summary.projection';
import { ShopOrder } from './support/shop';

/** A runner as far as `/health` cares. */
const runnerIn = (projection: string, state: ProjectionStatus['state']) => ({ status: (): ProjectionStatus => ({ projection, state, partitions: [] }) });

describe('serveProjections', () => {
  const servers: ProjectionServer[] = [];
  const serve = async (options: Parameters<typeof serveProjections>[0]) => {
    const server = await serveProjections({ host: '127.0.0.1', port: 0, ...options });
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  it('answers 503 on /health while a runner is not running (a real runner, never started)', async () => {
    const runner = new ProjectionRunner({ app: 'shop', brokers: ['127.0.0.1:1'], aggregates: [ShopOrder], projection: InMemoryOrderSummary, store: new InMemoryReadModelStore() });
    const server = await serve({ runners: [runner, runnerIn('other', 'running')] });
    expect(server.port).to.be.greaterThan(0);
    expect(server.url).to.equal(`http://127.0.0.1:${server.port}`);
    const response = await fetch(`${server.url}/health`);
    expect(response.status).to.equal(503);
    expect(response.headers.get('content-type')).to.match(/^application\/json/);
    const body = (await response.json()) as ProjectionHealth;
    expect(body.status).to.equal('unavailable');
    expect(body.projections.map((status) => [status.projection, status.state])).to.deep.equal([
      ['order-summary', 'idle'],
      ['other', 'running'],
    ]);
  });

  it('answers 200 on /health when every runner is running', async () => {
    const server = await serve({ runners: [runnerIn('a', 'running'), runnerIn('b', 'running')] });
    const response = await fetch(`${server.url}/health?verbose`);
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({
      status: 'ok',
      projections: [
        { projection: 'a', state: 'running', partitions: [] },
        { projection: 'b', state: 'running', partitions: [] },
      ],
    });
  });

  it('serves the registry on /metrics with its content type', async () => {
    const metrics = new ProjectionMetrics();
    metrics.events.inc({ projection: 'order-summary' }, 42);
    const server = await serve({ runners: [], metrics });
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal(metrics.registry.contentType);
    const text = await response.text();
    expect(text).to.include('tributary_projection_events_total{projection="order-summary"} 42');
    expect(text).to.not.include('process_cpu_user_seconds_total');
  });

  it('adds the process metrics when asked, once per registry', async () => {
    const metrics = new ProjectionMetrics();
    const first = await serve({ runners: [], metrics, processMetrics: true });
    const second = await serve({ runners: [], metrics, processMetrics: true });
    for (const server of [first, second]) expect(await (await fetch(`${server.url}/metrics`)).text()).to.include('process_cpu_user_seconds_total');
  });

  it('answers 404 elsewhere, and on /metrics without metrics; 405 to other methods', async () => {
    const server = await serve({ runners: [] });
    expect((await fetch(`${server.url}/`)).status).to.equal(404);
    expect((await fetch(`${server.url}/metricsx`)).status).to.equal(404);
    expect((await fetch(`${server.url}/metrics`)).status).to.equal(404);
    const post = await fetch(`${server.url}/health`, { method: 'POST' });
    expect(post.status).to.equal(405);
    expect(post.headers.get('allow')).to.equal('GET, HEAD');
  });

  it('closes (more than once) with a keep-alive connection open, and frees the port', async () => {
    const server = await serveProjections({ runners: [], host: '127.0.0.1', port: 0 });
    expect((await fetch(`${server.url}/health`, { headers: { connection: 'keep-alive' } })).status).to.equal(200);
    await server.close();
    await server.close();
    const again = await serve({ runners: [], host: '127.0.0.1', port: server.port });
    expect(again.port).to.equal(server.port);
  });

  it('refuses a port in use, and a port out of range', async () => {
    const server = await serve({ runners: [] });
    let error: unknown;
    await serveProjections({ runners: [], host: '127.0.0.1', port: server.port }).catch((caught: unknown) => (error = caught));
    expect((error as NodeJS.ErrnoException)?.code).to.equal('EADDRINUSE');
    let invalid: unknown;
    await serveProjections({ runners: [], port: 70_000 }).catch((caught: unknown) => (invalid = caught));
    expect(invalid).to.be.instanceOf(InvalidOptionError);
  });
});
