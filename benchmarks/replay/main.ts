/**
 * Replay throughput on a real broker: BulkReplay of N events over M aggregates
 * into memory, with JSON, Avro, and Avro written as v1 (a two-step upcaster
 * chain on most records), beside a baseline taken in the same run: raw kafkajs
 * `eachBatch` reading the same topic, doing nothing per record. Also single
 * loads of one 10 000-event aggregate through the Rehydrator, with and without
 * a snapshot, and the peak RSS of each replay. Prints one JSON object, then
 * markdown tables.
 *
 *   npm run bench:replay
 *
 * BENCH_EVENTS (1 000 000), BENCH_AGGREGATES (100 000), BENCH_PARTITIONS (6),
 * BENCH_ROUNDS (1; 2 runs baseline, replay, replay, baseline), BENCH_LOAD_EVENTS
 * (10 000), BENCH_LOADS (50), BENCH_KEEP=1 (keep the topics and reuse them next
 * run), BENCH_PROFILE=off (no CPU profile of a replay that misses its target).
 * Uses KAFKA_BROKERS and SCHEMA_REGISTRY_URL if set, otherwise starts the
 * project's services for the run. README.md in this folder says more.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { TopicLayout } from '@tributary/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { childTasks } from '../child-tasks';
import { FORMATS, GenerationReport, datasetSpec, ensureDataset } from './dataset';
import { AGGREGATE_TYPE } from './domain';
import { SelfTime, selfTimes } from './profile';
import { LoadsResult, ReadResult, Task, baseline, replay, serializerFor, singleLoads } from './tasks';

const EVENTS = Number(process.env.BENCH_EVENTS ?? '1000000');
const AGGREGATES = Number(process.env.BENCH_AGGREGATES ?? '100000');
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? '6');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '1');
const LOAD_EVENTS = Number(process.env.BENCH_LOAD_EVENTS ?? '10000');
const LOADS = Number(process.env.BENCH_LOADS ?? '50');
const KEEP = process.env.BENCH_KEEP === '1';
const PROFILE = process.env.BENCH_PROFILE !== 'off';

const TARGETS = { replayRatio: 0.9, snapshotLoadP50Ms: 2, replayPeakRssMb: 512 };
const LABELS: Record<string, string> = { json: 'JSON', avro: 'Avro', 'avro-v1': 'Avro v1 + 2-step upcasters' };

// ---- child processes ----

const { inChild, start } = childTasks<Task>('replay', runTask);

async function runTask(task: Task): Promise<unknown> {
  if (task.kind === 'baseline') return baseline(task);
  if (task.kind === 'replay') return replay(task);
  return singleLoads(task);
}


// ---- the run ----

interface Leg {
  readonly baseline: ReadResult[];
  readonly replay: ReadResult[];
}

interface ScenarioReport {
  readonly dataset: string;
  readonly topic: string;
  readonly baseline: ReadResult;
  readonly replay?: ReadResult;
  readonly ratio?: number;
  readonly replayError?: string;
  readonly allBaselines: number[];
  readonly allReplays: number[];
  readonly profile?: { totalMs: number; byOwner: SelfTime[]; functions: SelfTime[] };
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** The run whose rate is the mean (the median of 1 or 2 runs is their mean too); memory is the peak over runs. */
function combine(results: ReadResult[]): ReadResult {
  const rate = Math.round(mean(results.map((result) => result.eventsPerSecond)));
  const peak = Math.max(...results.map((result) => result.memory.peakRssMb));
  const closest = [...results].sort((a, b) => Math.abs(a.eventsPerSecond - rate) - Math.abs(b.eventsPerSecond - rate))[0];
  return { ...closest, eventsPerSecond: rate, memory: { ...closest.memory, peakRssMb: peak } };
}

async function main(): Promise<void> {
  let stopServices: (() => Promise<void>) | undefined;
  let brokersText = process.env.KAFKA_BROKERS;
  let registryUrl = process.env.SCHEMA_REGISTRY_URL;
  if (!brokersText || !registryUrl) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startServices } = require('../../scripts/services') as {
      startServices(options?: { env?: Record<string, string | undefined> }): Promise<{ kafkaBrokers: string; schemaRegistryUrl: string; stop(): Promise<void> }>;
    };
    const services = await startServices({ env: process.env });
    stopServices = services.stop;
    brokersText = services.kafkaBrokers;
    registryUrl = services.schemaRegistryUrl;
    // The children connect to the same services.
    process.env.KAFKA_BROKERS = brokersText;
    process.env.SCHEMA_REGISTRY_URL = registryUrl;
  }
  const brokers = brokersText.split(',').map((broker) => broker.trim()).filter(Boolean);
  const admin = new Kafka({ clientId: 'bench-replay-admin', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const specs = FORMATS.map((format) => datasetSpec(format, EVENTS, AGGREGATES, PARTITIONS));
  const loadsApp = `bench-replay-load-${LOAD_EVENTS}-p${PARTITIONS}`;
  const startedAt = performance.now();
  const log = (message: string) => console.error(`[bench:replay ${Math.round((performance.now() - startedAt) / 1000)}s] ${message}`);

  try {
    // 1. The datasets.
    const generation: GenerationReport[] = [];
    for (const spec of specs) {
      log(`dataset ${spec.format}: ${EVENTS} events over ${AGGREGATES} aggregates to ${spec.topic}`);
      generation.push(await ensureDataset(spec, brokers, admin, serializerFor(spec.format, registryUrl)));
      log(`dataset ${spec.format}: ${JSON.stringify(generation[generation.length - 1])}`);
    }

    // 2. Baseline and replay, each in a fresh process, alternating so drift falls on both.
    const legs = new Map<string, Leg>(specs.map((spec) => [spec.format, { baseline: [], replay: [] }]));
    const replayErrors = new Map<string, string>();
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const spec of specs) {
        const leg = legs.get(spec.format)!;
        const order: Array<'baseline' | 'replay'> = round % 2 === 0 ? ['baseline', 'replay'] : ['replay', 'baseline'];
        for (const kind of order) {
          if (kind === 'replay' && replayErrors.has(spec.format)) continue;
          log(`round ${round + 1}: ${kind} of ${spec.format}`);
          try {
            const result = await inChild<ReadResult>(kind === 'baseline' ? { kind, spec, brokers } : { kind, spec, brokers, registryUrl });
            leg[kind].push(result);
            log(`${kind} of ${spec.format}: ${result.eventsPerSecond} events/s, peak RSS ${result.memory.peakRssMb} MB`);
          } catch (error) {
            if (kind === 'baseline') throw error;
            replayErrors.set(spec.format, error instanceof Error ? error.message : String(error));
            log(`replay of ${spec.format} failed: ${replayErrors.get(spec.format)}`);
          }
        }
      }
    }

    const scenarios: ScenarioReport[] = [];
    for (const spec of specs) {
      const leg = legs.get(spec.format)!;
      const base = combine(leg.baseline);
      const replayed = leg.replay.length > 0 ? combine(leg.replay) : undefined;
      scenarios.push({
        dataset: spec.format,
        topic: spec.topic,
        baseline: base,
        ...(replayed ? { replay: replayed, ratio: Math.round((replayed.eventsPerSecond / base.eventsPerSecond) * 1000) / 1000 } : {}),
        ...(replayErrors.has(spec.format) ? { replayError: replayErrors.get(spec.format) } : {}),
        allBaselines: leg.baseline.map((result) => result.eventsPerSecond),
        allReplays: leg.replay.map((result) => result.eventsPerSecond),
      });
    }

    // 3. Where the time goes, for each replay that misses its target: one more run, profiled (not measured).
    if (PROFILE) {
      for (const [index, scenario] of scenarios.entries()) {
        if (scenario.ratio === undefined || scenario.ratio >= TARGETS.replayRatio) continue;
        const dir = mkdtempSync(join(tmpdir(), 'bench-replay-prof-'));
        log(`profiling the replay of ${scenario.dataset} (ratio ${scenario.ratio} < ${TARGETS.replayRatio})`);
        try {
          await inChild<ReadResult>({ kind: 'replay', spec: specs[index], brokers, registryUrl }, dir);
          const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
          if (file) scenarios[index] = { ...scenario, profile: selfTimes(join(dir, file)) };
        } finally {
          if (!process.env.BENCH_KEEP_PROFILES) rmSync(dir, { recursive: true, force: true });
          else log(`profile kept in ${dir}`);
        }
      }
    }

    // 4. Single loads.
    let loads: LoadsResult | { error: string } | undefined;
    if (LOADS > 0) {
      log(`single loads of a ${LOAD_EVENTS}-event aggregate (${loadsApp})`);
      try {
        loads = await inChild<LoadsResult>({ kind: 'loads', app: loadsApp, partitions: PARTITIONS, brokers, events: LOAD_EVENTS, loads: LOADS });
      } catch (error) {
        loads = { error: error instanceof Error ? error.message : String(error) };
      }
    }

    report(generation, scenarios, loads, (performance.now() - startedAt) / 1000);
  } finally {
    if (!KEEP) {
      // Leave the shared broker as we found it (registry subjects stay: their names are fixed, the next run reuses them).
      const layouts = [...specs.map((spec) => new TopicLayout({ app: spec.app, partitions: PARTITIONS })), new TopicLayout({ app: loadsApp, partitions: PARTITIONS })];
      const existing = new Set(await admin.listTopics().catch(() => [] as string[]));
      const topics = layouts.flatMap((layout) => layout.topicsFor([AGGREGATE_TYPE]).map((topic) => topic.name)).filter((topic) => existing.has(topic));
      await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.deleteGroups(layouts.map((layout) => layout.commandGroupId)).catch(() => undefined);
    }
    await admin.disconnect().catch(() => undefined);
    await stopServices?.();
  }
}

function report(generation: GenerationReport[], scenarios: ScenarioReport[], loads: LoadsResult | { error: string } | undefined, seconds: number): void {
  const json = scenarios.find((scenario) => scenario.dataset === 'json');
  const snapshotLoad = loads && 'stats' in loads ? loads.stats.find((stat) => stat.name === 'kafka, snapshot at the last event') : undefined;
  const memorySnapshotLoad = loads && 'stats' in loads ? loads.stats.find((stat) => stat.name === 'in memory, snapshot at the last event') : undefined;
  const peakRss = Math.max(...scenarios.map((scenario) => scenario.replay?.memory.peakRssMb ?? 0));
  const targets = {
    replayRatio: scenarios.map((scenario) => ({ dataset: scenario.dataset, target: TARGETS.replayRatio, value: scenario.ratio ?? null, met: scenario.ratio === undefined ? null : scenario.ratio >= TARGETS.replayRatio })),
    snapshotLoadP50Ms: {
      target: TARGETS.snapshotLoadP50Ms,
      kafka: snapshotLoad?.p50Ms ?? null,
      inMemory: memorySnapshotLoad?.p50Ms ?? null,
      met: snapshotLoad ? snapshotLoad.p50Ms <= TARGETS.snapshotLoadP50Ms : null,
    },
    replayPeakRssMb: { target: TARGETS.replayPeakRssMb, value: peakRss || null, met: peakRss ? peakRss <= TARGETS.replayPeakRssMb : null, appliesTo: `${EVENTS} events over ${AGGREGATES} aggregates` },
  };
  const output = {
    benchmark: 'replay',
    node: process.version,
    events: EVENTS,
    aggregates: AGGREGATES,
    partitions: PARTITIONS,
    rounds: ROUNDS,
    headline: json?.ratio === undefined ? 'replay not measured' : `JSON bulk replay runs at ${json.ratio}× the raw kafkajs baseline`,
    generation,
    scenarios,
    loads,
    targets,
    seconds: Math.round(seconds),
  };
  console.log(JSON.stringify(output, null, 2));

  const n = (value: number | undefined) => (value === undefined ? '—' : value.toLocaleString('en'));
  console.log(`\n### Replay: ${n(EVENTS)} events over ${n(AGGREGATES)} aggregates, ${PARTITIONS} partitions\n`);
  console.log('| dataset | baseline events/s | replay events/s | × baseline | replay peak RSS (MB) | baseline peak RSS (MB) | RSS before (MB) | replay CPU s | wrong versions |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const scenario of scenarios) {
    const replayed = scenario.replay;
    console.log(
      `| ${LABELS[scenario.dataset]} | ${n(scenario.baseline.eventsPerSecond)} | ${replayed ? n(replayed.eventsPerSecond) : 'not measured'} | ${scenario.ratio ?? '—'} | ${replayed ? replayed.memory.peakRssMb : '—'} | ${scenario.baseline.memory.peakRssMb} | ${replayed?.memory.rssBeforeMb ?? scenario.baseline.memory.rssBeforeMb} | ${replayed ? (replayed.cpuMs / 1000).toFixed(1) : '—'} | ${replayed?.wrongVersions ?? '—'} |`,
    );
  }
  if (loads && 'stats' in loads) {
    console.log(`\n### Single loads of one ${n(loads.events)}-event aggregate (${loads.stats[0]?.loads} loads each, after 5 warm-up)\n`);
    console.log('| load | p50 ms | p99 ms | mean ms | min ms |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const stat of loads.stats) console.log(`| ${stat.name} | ${stat.p50Ms} | ${stat.p99Ms} | ${stat.meanMs} | ${stat.minMs} |`);
  } else if (loads) {
    console.log(`\nSingle loads not measured: ${loads.error}`);
  }
  console.log('\n### Targets (reported, not asserted)\n');
  console.log('| target | value | met |');
  console.log('| --- | ---: | :---: |');
  const mark = (met: boolean | null) => (met === null ? 'not measured' : met ? 'yes' : 'no');
  for (const entry of targets.replayRatio) console.log(`| ${LABELS[entry.dataset]} replay ≥ ${entry.target}× baseline | ${entry.value ?? '—'} | ${mark(entry.met)} |`);
  console.log(`| snapshot load of a ${n(LOAD_EVENTS)}-event aggregate p50 ≤ ${TARGETS.snapshotLoadP50Ms} ms (KafkaEventStore) | ${targets.snapshotLoadP50Ms.kafka ?? '—'} | ${mark(targets.snapshotLoadP50Ms.met)} |`);
  console.log(`| … the same from memory (InMemoryEventStore) | ${targets.snapshotLoadP50Ms.inMemory ?? '—'} | ${mark(memorySnapshotLoad ? memorySnapshotLoad.p50Ms <= TARGETS.snapshotLoadP50Ms : null)} |`);
  console.log(`| replay peak RSS ≤ ${TARGETS.replayPeakRssMb} MB (${n(EVENTS)} events, ${n(AGGREGATES)} aggregates) | ${targets.replayPeakRssMb.value ?? '—'} | ${mark(targets.replayPeakRssMb.met)} |`);
  for (const scenario of scenarios) {
    if (!scenario.profile) continue;
    console.log(`\n### Where the ${LABELS[scenario.dataset]} replay spends its time (self time, ${scenario.profile.totalMs} ms profiled)\n`);
    console.log('| code | ms | % |');
    console.log('| --- | ---: | ---: |');
    for (const owner of scenario.profile.byOwner.slice(0, 10)) console.log(`| ${owner.fn} | ${owner.ms} | ${owner.percent} |`);
    console.log('');
    console.log('| function | ms | % |');
    console.log('| --- | ---: | ---: |');
    for (const fn of scenario.profile.functions.slice(0, 15)) console.log(`| \`${fn.fn}\` | ${fn.ms} | ${fn.percent} |`);
  }
}

start(main);
