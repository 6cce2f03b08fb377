import { BarGroup } from './svg-bars';

/** A goal of issue #12 (or another), as met or not by a saved result. */
export interface GoalCheck {
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean;
}

/** How one benchmark's saved result becomes a chart and a list of goals. */
export interface Chart {
  readonly benchmark: string;
  readonly title: string;
  readonly unit: string;
  /** One sentence on what is measured. */
  readonly about: string;
  groups(result: unknown): BarGroup[];
  goals(result: unknown): GoalCheck[];
}

const ratio = (value: number, base: number) => `${(Math.round((value / base) * 100) / 100).toFixed(2)}×`;

interface Measured {
  perSecond: number;
  latencyMs: { p50: number; p99: number };
}
interface KafkaCommands {
  scenarios: Array<{ name: string; baseline: Measured; tributary: Measured; ratio: number }>;
  throughput?: { results: Array<{ system: string; perSecond: number; latencyMs: { p50: number; p99: number } }> };
}

const kafkaCommands: Chart = {
  benchmark: 'kafka-commands',
  title: 'Commands on Kafka',
  unit: 'commands/s',
  about:
    'A `KafkaCommandBus.execute` round trip through command processors, against the same round trip written in plain kafkajs; the throughput rows run 1,000 commands in flight over 10,000 aggregates with processors in processes of their own, beside Emmett appending to PostgreSQL.',
  groups(result) {
    const { scenarios, throughput } = result as KafkaCommands;
    const groups: BarGroup[] = scenarios.map((scenario) => ({
      title: scenario.name,
      bars: [
        { label: 'plain kafkajs', value: scenario.baseline.perSecond, kind: 'baseline' },
        { label: 'Tributary', value: scenario.tributary.perSecond, kind: 'tributary', note: `${scenario.ratio.toFixed(2)}×, p99 ${scenario.tributary.latencyMs.p99} ms` },
      ],
    }));
    if (throughput) {
      groups.push({
        title: '1,000 in flight over 10,000 aggregates',
        bars: throughput.results.map((row) => ({
          label: row.system,
          value: row.perSecond,
          kind: row.system.startsWith('tributary') ? 'tributary' : 'peer',
          note: `p99 ${row.latencyMs.p99} ms`,
        })),
      });
    }
    return groups;
  },
  goals(result) {
    const { scenarios, throughput } = result as KafkaCommands;
    const goals: GoalCheck[] = [];
    const spread = scenarios.find((scenario) => scenario.name.includes('32 in flight') && scenario.name.startsWith('1000'));
    if (spread) goals.push({ goal: 'p99 at 32 in flight ≤ 30 ms', measured: `${spread.tributary.latencyMs.p99} ms`, met: spread.tributary.latencyMs.p99 <= 30 });
    const two = throughput?.results.find((row) => row.system.includes('2 processors'));
    const emmett = throughput?.results.find((row) => row.system.startsWith('emmett'));
    if (two) goals.push({ goal: '≥ 15,000 commands/s with 2 processors', measured: `${two.perSecond.toLocaleString('en-US')}/s`, met: two.perSecond >= 15_000 });
    if (two && emmett) goals.push({ goal: "≥ Emmett's appends/s in the same run", measured: `${two.perSecond.toLocaleString('en-US')} vs ${emmett.perSecond.toLocaleString('en-US')} (${ratio(two.perSecond, emmett.perSecond)})`, met: two.perSecond >= emmett.perSecond });
    return goals;
  },
};

interface FailoverSystem {
  kill: { medianMs: number };
  stop: { medianMs: number };
  join: { medianMs: number };
}
interface Failover {
  baseline: FailoverSystem;
  tributary: FailoverSystem;
  projections: FailoverSystem;
}

const failover: Chart = {
  benchmark: 'failover',
  title: 'Failover: how long a partition answers nothing',
  unit: 'ms, median',
  about: 'Six partitions over three workers with the default group timing (session 10 s, heartbeat 1 s); the baseline is plain kafkajs consumers with the same timing.',
  groups(result) {
    const { baseline, tributary, projections } = result as Failover;
    const incident = (title: string, key: keyof FailoverSystem): BarGroup => ({
      title,
      bars: [
        { label: 'plain kafkajs consumers', value: baseline[key].medianMs, kind: 'baseline' },
        { label: 'command processors', value: tributary[key].medianMs, kind: 'tributary' },
        { label: 'projection runners', value: projections[key].medianMs, kind: 'tributary' },
      ],
    });
    return [incident('a worker is killed (SIGKILL)', 'kill'), incident('a worker stops (SIGTERM)', 'stop'), incident('a worker joins (every partition)', 'join')];
  },
  goals() {
    return [];
  },
};

/** The charts of docs/benchmarks.md, in order. */
export const CHARTS: Chart[] = [kafkaCommands, failover];
