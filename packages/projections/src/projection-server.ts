import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { InvalidOptionError } from '@tributary/core';
import { collectDefaultMetrics } from 'prom-client';
import { ProjectionMetrics } from './projection-metrics';
import { ProjectionRunner } from './projection-runner';

/** What `/health` reports of one runner: its {@link ProjectionRunner.status}. */
export type ProjectionStatus = ReturnType<ProjectionRunner['status']>;

/** Options of {@link serveProjections}. */
export interface ProjectionServerOptions {
  /** The runners `/health` reports on: anything with a runner's `status()`. */
  readonly runners: readonly { status(): ProjectionStatus }[];
  /** The metrics `/metrics` exposes, usually the one the runners were given. Without it `/metrics` answers 404. */
  readonly metrics?: ProjectionMetrics;
  /** Also collect prom-client's default process metrics (CPU, memory, event loop lag, GC) into the metrics' registry. Defaults to false. */
  readonly processMetrics?: boolean;
  /** The TCP port; 0 picks a free one (see {@link ProjectionServer.port}). Defaults to 9464, the Prometheus exporter convention. */
  readonly port?: number;
  /** The address listened on. Defaults to every interface, so a scraper outside the host or container reaches it. */
  readonly host?: string;
}

/** A running {@link serveProjections} server. */
export interface ProjectionServer {
  /** Its base URL, e.g. `http://localhost:9464`. */
  readonly url: string;
  /** The port it listens on: the one picked when 0 was asked for. */
  readonly port: number;
  /** Stops listening and drops open (keep-alive) connections. */
  close(): Promise<void>;
}

/** The body of `/health`. */
export interface ProjectionHealth {
  /** `ok` when every runner is `running`. */
  readonly status: 'ok' | 'unavailable';
  readonly projections: readonly ProjectionStatus[];
}

/** The default port: 9464 is the one the Prometheus exporter conventions give to in-process exporters. */
export const DEFAULT_PROJECTION_SERVER_PORT = 9464;

/**
 * Serves the metrics and health of a process's projection runners over HTTP:
 *
 * - `GET /metrics`: the Prometheus text of the metrics' registry;
 * - `GET /health`: `200 {"status":"ok","projections":[…]}` when every runner
 *   is `running`, else `503` with `"status":"unavailable"` and the same list,
 *   so an orchestrator's readiness probe holds traffic back from a worker
 *   that is starting, stopping or failed;
 * - anything else: 404.
 *
 * `tributary projection run` serves one; an app running its own runners can too.
 *
 * @example
 * ```ts
 * const metrics = new ProjectionMetrics();
 * const runner = new ProjectionRunner({ …options, metrics });
 * await runner.start();
 * const server = await serveProjections({ runners: [runner], metrics });
 * console.log(`metrics on ${server.url}/metrics`);
 * process.once('SIGTERM', async () => { await runner.stop(); await server.close(); });
 * ```
 */
export async function serveProjections(options: ProjectionServerOptions): Promise<ProjectionServer> {
  const port = options.port ?? DEFAULT_PROJECTION_SERVER_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidOptionError(`serveProjections option port must be a whole number from 0 to 65535, got ${port}`);
  if (!Array.isArray(options.runners)) throw new InvalidOptionError('serveProjections option runners must be an array of ProjectionRunner');
  const { metrics } = options;
  // Default metrics register under fixed names: a second server on the same registry reuses them.
  if (metrics && options.processMetrics && !metrics.registry.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics({ register: metrics.registry });

  const server = createServer((request, response) => {
    void answer(request, response, options).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', `${error instanceof Error ? error.message : String(error)}\n`);
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return { url: `http://${displayHost(options.host)}:${bound}`, port: bound, close: () => (closed ??= close(server)) };
}

async function answer(request: IncomingMessage, response: ServerResponse, options: ProjectionServerOptions): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (path !== '/metrics' && path !== '/health') return send(response, 404, 'text/plain; charset=utf-8', 'Not found: try /metrics or /health\n');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return send(response, 405, 'text/plain; charset=utf-8', `${request.method} is not allowed on ${path}\n`);
  }
  if (path === '/metrics') {
    if (!options.metrics) return send(response, 404, 'text/plain; charset=utf-8', 'No metrics: give serveProjections a ProjectionMetrics\n');
    const { registry } = options.metrics;
    return send(response, 200, registry.contentType, await registry.metrics(), request.method === 'HEAD');
  }
  const projections = options.runners.map((runner) => runner.status());
  const healthy = projections.every((status) => status.state === 'running');
  const body: ProjectionHealth = { status: healthy ? 'ok' : 'unavailable', projections };
  return send(response, healthy ? 200 : 503, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`, request.method === 'HEAD');
}

function send(response: ServerResponse, status: number, contentType: string, body: string, headOnly = false): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  response.end(headOnly ? undefined : body);
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // A scraper's keep-alive connection would hold close() open until it times out.
    server.closeAllConnections();
  });
}

function displayHost(host: string | undefined): string {
  if (host === undefined || host === '' || host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}
