/**
 * `tributary projection run | rebuild` and `tributary dlq list | redrive | skip`
 * against the real broker, with the order summary of the projection tests in
 * the in-memory store of test/fixtures/projections.config.ts (shared with this
 * process, so the test reads what the commands wrote). Events are written the
 * way the command processors write them (ShopEventWriter).
 */
import { join } from 'node:path';
import { expect } from 'chai';
import { Admin, Kafka } from 'kafkajs';
import { liveSlot } from '@tributary/core';
import { EXIT, runCli } from '@tributary/cli';
import { ProjectionHealth } from '@tributary/projections';
import { createKafka, kafkaBrokers, uniqueName } from '../../../test-support/integration';
import { ShopEventWriter } from '../../projections/test/support/event-writer';
import { handlerBehaviour, inMemoryRows } from '../../projections/test/support/order-summary.projection';
import { ShopEvent, foldOrderSummaries, shopEvents } from '../../projections/test/support/shop';
import { projectionStore } from './fixtures/projection-store';

const fixture = join(__dirname, 'fixtures', 'projections.config.ts');

interface Outcome {
  code: number;
  out: string;
  err: string;
}

async function tributary(args: string[]): Promise<Outcome> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdout: (text) => (out += text),
    stderr: (text) => (err += text),
    env: { KAFKA_BROKERS: kafkaBrokers().join(',') },
    stderrIsTTY: false,
    progressIntervalMs: 0,
  });
  return { code, out, err };
}

/** `tributary projection run …` in the background, stopped by aborting. */
function background(args: string[]): { output: () => string; stop: () => Promise<Outcome>; done: Promise<Outcome> } {
  const controller = new AbortController();
  let out = '';
  let err = '';
  const done = runCli(args, {
    stdout: (text) => (out += text),
    stderr: (text) => (err += text),
    env: { KAFKA_BROKERS: kafkaBrokers().join(',') },
    signal: controller.signal,
  }).then((code) => ({ code, out, err }));
  return {
    output: () => out + err,
    stop: () => {
      controller.abort();
      return done;
    },
    done,
  };
}

async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Not in time: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const rows = () => Object.fromEntries(inMemoryRows(projectionStore.read('order-summary')));
/** A read model as one string, whatever order its rows were written in. */
const canonical = (model: Record<string, unknown>) => JSON.stringify(Object.entries(model).sort(([a], [b]) => (a < b ? -1 : 1)));
const deadLetters = () => projectionStore.deadLetters(liveSlot('order-summary'));
const runArgs = ['projection', 'run', 'order-summary', '--config', fixture, '--port', '0', '--host', '127.0.0.1'];

describe('tributary projection and dlq (real broker)', function () {
  this.timeout(180_000);
  const app = uniqueName('cli-projections');
  const groupId = `${app}.projection.order-summary`;
  const written: ShopEvent[] = [];
  let kafka: Kafka;
  let admin: Admin;
  let writer: ShopEventWriter;

  const write = async (events: ShopEvent[], poison: (event: ShopEvent, index: number) => boolean = () => false) => {
    await writer.write(events, poison);
    written.push(...events);
  };
  /** Runs the worker until `ready`, then stops it as SIGTERM would. */
  const runUntil = async (ready: () => boolean | Promise<boolean>, what: string) => {
    const run = background(runArgs);
    try {
      await eventually(async () => (await ready()) || /exited|tributary:/.test(run.output()), what);
    } finally {
      const outcome = await run.stop();
      expect(outcome.code, outcome.out + outcome.err).to.equal(EXIT.ok);
    }
  };

  before(async () => {
    process.env.TRIBUTARY_CLI_TEST_APP = app;
    kafka = createKafka();
    admin = kafka.admin();
    await admin.connect();
    writer = new ShopEventWriter(kafka, app, 3);
    await writer.createTopic(admin);
  });

  after(async () => {
    handlerBehaviour.poisonRefused = true;
    await writer?.close();
    await admin?.disconnect();
  });

  it('runs a worker until stopped: the store gets the events, /health and /metrics answer, and the worker leaves its group', async () => {
    const events = shopEvents(5, 300, 30);
    await write(events);
    const run = background(runArgs);
    let url = '';
    try {
      await eventually(() => /projection order-summary: running/.test(run.output()), 'the worker reports it runs');
      url = /\/metrics and \/health on (http:\/\/\S+)/.exec(run.output())![1];
      expect(run.output()).to.match(new RegExp(`^projection order-summary: running in group ${groupId.replace(/\./g, '\\.')}, reading ${app}\\.ShopOrder\\.events$`, 'm'));
      await eventually(() => canonical(rows()) === canonical(Object.fromEntries(foldOrderSummaries(written))), 'the read model equals the fold');

      const health = await fetch(`${url}/health`);
      expect(health.status).to.equal(200);
      const body = (await health.json()) as ProjectionHealth;
      expect(body.status).to.equal('ok');
      expect(body.projections.map((status) => [status.projection, status.state])).to.deep.equal([['order-summary', 'running']]);
      expect(body.projections[0].partitions).to.have.length(3);

      await eventually(async () => (await (await fetch(`${url}/metrics`)).text()).includes('tributary_projection_events_total{projection="order-summary"} 300'), 'the events counter reads 300');
      const metrics = await fetch(`${url}/metrics`);
      expect(metrics.headers.get('content-type')).to.match(/^text\/plain/);
      expect(await metrics.text()).to.include('process_cpu_user_seconds_total');
    } finally {
      const outcome = await run.stop();
      expect(outcome.err).to.equal('');
      expect(outcome.code).to.equal(EXIT.ok);
      expect(outcome.out).to.match(/projection run: aborted, stopping: each worker commits the batch in hand and leaves its group\nprojection order-summary: stopped\n$/);
    }
    const { groups } = await admin.describeGroups([groupId]);
    expect(groups[0].members).to.deep.equal([]);
    expect(groups[0].state).to.equal('Empty');
    // The server went with the worker.
    let refused: unknown;
    await fetch(`${url}/health`).catch((error: unknown) => (refused = error));
    expect(refused).to.be.instanceOf(Error);
  });

  it('stops gracefully on SIGTERM when given no AbortSignal, and then lets go of the signal', async () => {
    const listeners = () => [process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')];
    const before = listeners();
    let out = '';
    const done = runCli(runArgs, { stdout: (text) => (out += text), stderr: (text) => (out += text), env: { KAFKA_BROKERS: kafkaBrokers().join(',') } });
    await eventually(() => out.includes('projection order-summary: running') || out.includes('tributary:'), 'the worker reports it runs');
    expect(listeners()).to.deep.equal([before[0] + 1, before[1] + 1]);
    process.emit('SIGTERM');
    expect(await done, out).to.equal(EXIT.ok);
    expect(out).to.include('projection run: SIGTERM, stopping').and.include('projection order-summary: stopped');
    expect(listeners()).to.deep.equal(before);
  });

  it('lists a poison event and its parked follower, keeps them when the redrive fails again, and redrives them after the fix', async () => {
    const poisoned: ShopEvent[] = [
      { orderId: 'p-1', type: 'placed', customerId: 'c-p' },
      { orderId: 'p-1', type: 'item', sku: 'bad', cents: 7 },
      { orderId: 'p-1', type: 'item', sku: 'after', cents: 3 },
      { orderId: 'p-2', type: 'placed', customerId: 'c-q' },
    ];
    await write(poisoned, (_, index) => index === 1);
    await runUntil(async () => (await deadLetters()).length === 2 && rows()['p-2'] !== undefined, 'two dead letters');
    expect(rows()['p-1']).to.deep.equal({ customerId: 'c-p', items: 0, totalCents: 0, shipped: false });

    const list = await tributary(['dlq', 'list', 'order-summary', '--config', fixture]);
    expect(list.code, list.err).to.equal(EXIT.ok);
    const lines = list.out.trimEnd().split('\n');
    expect(lines).to.have.length(3);
    const topic = `${app}.ShopOrder.events`.replace(/\./g, '\\.');
    expect(lines[0]).to.match(new RegExp(`^${topic}:\\d:\\d+ +ShopOrder:p-1  failed  ProjectionTest\\.ItemAdded  order p-1: this event is poison \\[TEST_POISON\\]$`));
    expect(lines[1]).to.match(new RegExp(`^${topic}:\\d:\\d+ +ShopOrder:p-1  parked  ProjectionTest\\.ItemAdded  -$`));
    expect(lines[2]).to.equal('dlq list order-summary: 2 dead letters, 1 aggregate parked');

    const stillBroken = await tributary(['dlq', 'redrive', 'order-summary', '--config', fixture]);
    expect(stillBroken.code).to.equal(EXIT.findings);
    expect(stillBroken.out).to.match(/^✘ Redriving ShopOrder:p-1 into projection 'order-summary' failed again at \S+: order p-1: this event is poison\. .* \[REDRIVE_FAILED\]\n/);
    expect(stillBroken.out).to.match(/dlq redrive order-summary: 0 dead letters of 0 aggregates redriven; 1 aggregate failed again\n$/);
    expect(await deadLetters()).to.have.length(2);

    handlerBehaviour.poisonRefused = false;
    try {
      const redrive = await tributary(['dlq', 'redrive', 'order-summary', '--aggregate', 'ShopOrder:p-1', '--config', fixture]);
      expect(redrive.code, redrive.err).to.equal(EXIT.ok);
      expect(redrive.out).to.equal('dlq redrive order-summary: 2 dead letters of 1 aggregate redriven\n');
    } finally {
      handlerBehaviour.poisonRefused = true;
    }
    expect(rows()['p-1']).to.deep.equal(foldOrderSummaries(written).get('p-1'));
    expect((await tributary(['dlq', 'list', 'order-summary', '--config', fixture])).out).to.equal('dlq list order-summary: no dead letters\n');
  });

  it('skips a dead letter and redrives the events parked behind it', async () => {
    const poisoned: ShopEvent[] = [
      { orderId: 's-1', type: 'placed', customerId: 'c-s' },
      { orderId: 's-1', type: 'item', sku: 'bad', cents: 700 },
      { orderId: 's-1', type: 'item', sku: 'good', cents: 5 },
      { orderId: 's-1', type: 'shipped' },
    ];
    await write(poisoned, (_, index) => index === 1);
    await runUntil(async () => (await deadLetters()).length === 3, 'three dead letters');
    const list = await tributary(['dlq', 'list', 'order-summary', '--config', fixture]);
    const failedLine = list.out.split('\n').find((line) => /ShopOrder:s-1 +failed/.test(line));
    const coordinates = failedLine!.split(' ')[0];

    const skip = await tributary(['dlq', 'skip', 'order-summary', coordinates, '--config', fixture]);
    expect(skip.code, skip.err).to.equal(EXIT.ok);
    expect(skip.out).to.equal(`dlq skip order-summary: skipped ${coordinates}, 2 parked dead letters redriven\n`);
    expect(rows()['s-1']).to.deep.equal({ customerId: 'c-s', items: 1, totalCents: 5, shipped: true });
    expect(await deadLetters()).to.deep.equal([]);

    const again = await tributary(['dlq', 'skip', 'order-summary', coordinates, '--config', fixture]);
    expect(again.code).to.equal(EXIT.usage);
    expect(again.err).to.include(`no outstanding dead letter ${coordinates}`).and.include('UNKNOWN_DEAD_LETTER');
  });

  it('rebuilds the read model from the topic with progress, and swaps it in', async () => {
    // The fixed handler takes the events once skipped: the rebuilt model is the full replay.
    handlerBehaviour.poisonRefused = false;
    try {
      expect(rows()['s-1']).to.not.deep.equal(foldOrderSummaries(written).get('s-1'));
      const rebuild = await tributary(['projection', 'rebuild', 'order-summary', '--swap-lag', '0', '--config', fixture]);
      expect(rebuild.code, rebuild.err).to.equal(EXIT.ok);
      expect(rebuild.out).to.match(new RegExp(`^rebuild order-summary: ${written.length} events in \\d+\\.\\d\\d s, \\d+ events/s; swapped\\n$`));
      const progress = rebuild.err.trimEnd().split('\n');
      expect(progress.length).to.be.greaterThan(0);
      for (const line of progress) expect(line).to.match(/^rebuild order-summary +\d+% \d+ events\/s ETA \S+ lag \d+$/);
      expect(progress[progress.length - 1]).to.match(/100% .* lag 0$/);
    } finally {
      handlerBehaviour.poisonRefused = true;
    }
    expect(rows()).to.deep.equal(Object.fromEntries(foldOrderSummaries(written)));
    expect(await deadLetters()).to.deep.equal([]);
  });

  it('exits 3 when a worker fails, after stopping the others', async () => {
    // Every configured projection; the store of 'customers' is lost. Never aborted: it ends on its own.
    const outcome = await background(['projection', 'run', '--config', fixture, '--port', '0', '--host', '127.0.0.1']).done;
    expect(outcome.code).to.equal(EXIT.failure);
    expect(outcome.err).to.include("Projection 'customers' stopped: the read model database is gone").and.include('PROJECTION_STOPPED');
    const { groups } = await admin.describeGroups([groupId, `${app}.projection.customers`]);
    expect(groups.map((group) => group.members)).to.deep.equal([[], []]);
  });

  it('names the configured projections when given an unknown one, and exits 2', async () => {
    for (const args of [
      ['projection', 'run', 'order-sumary'],
      ['projection', 'rebuild', 'order-sumary'],
      ['dlq', 'list', 'order-sumary'],
      ['dlq', 'redrive', 'order-sumary'],
    ]) {
      const outcome = await tributary([...args, '--config', fixture]);
      expect(outcome.code, args.join(' ')).to.equal(EXIT.usage);
      expect(outcome.err).to.equal(
        "tributary: No projection 'order-sumary' in the configuration; name one of its projections: order-summary, customers [UNKNOWN_PROJECTION]\n",
      );
    }
  });
});
