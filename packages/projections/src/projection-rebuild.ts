import { InvalidOptionError, PartitionOffset, shadowSlot } from '@tributary/core';
import { Instrumentation, connectAdmin, fetchTopicOffsets } from '@tributary/kafka';
import { Admin } from 'kafkajs';
import { ProjectionRunner, ProjectionRunnerOptions } from './projection-runner';

/** Options of a {@link ProjectionRebuild}: a runner's, plus when to swap. */
export interface ProjectionRebuildOptions<W> extends Omit<ProjectionRunnerOptions<W>, 'version'> {
  /** Swap once the shadow is this many records or fewer behind the end of the topics. Defaults to 1 000. */
  readonly swapLag?: number;
  /** Least time between two `rebuild.progress` events. Defaults to 500 ms. */
  readonly progressIntervalMs?: number;
  /** Bound on catching up with the live offsets while live commits wait. Defaults to 60 000 ms. */
  readonly catchUpTimeoutMs?: number;
}

/** Payloads of a rebuild's instrumentation events. */
export interface ProjectionRebuildEvents {
  'rebuild.started': { projection: string; totalRecords: number };
  'rebuild.progress': { projection: string; handled: number; lag: number; fraction: number; eventsPerSecond: number; etaMs: number };
  'rebuild.swapping': { projection: string; lag: number };
  'rebuild.swapped': { projection: string; events: number; elapsedMs: number; eventsPerSecond: number };
}

const REBUILD_EVENT_NAMES: readonly (keyof ProjectionRebuildEvents)[] = ['rebuild.started', 'rebuild.progress', 'rebuild.swapping', 'rebuild.swapped'];

/** What a rebuild did. */
export interface ProjectionRebuildResult {
  readonly projection: string;
  /** Events handled into the shadow. */
  readonly events: number;
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
}

/**
 * Rebuilds a projection from the beginning of history without stopping it:
 * a runner of its own fills the shadow version (a shadow table, a key
 * generation) while the live workers keep serving and updating the live one;
 * once the shadow is within `swapLag` records of the end, the store freezes live
 * commits, the shadow catches up to the live offsets, and the two swap
 * atomically. Live workers then continue from the shadow's offsets (their next
 * compare-and-set tells them).
 *
 * For a projection whose handlers changed, or a read model lost or corrupted.
 * `tributary projection rebuild <name>` runs one with a progress bar.
 */
export class ProjectionRebuild<W = unknown> {
  private readonly instrumentation = new Instrumentation<ProjectionRebuildEvents>(REBUILD_EVENT_NAMES);
  private readonly swapLag: number;
  private readonly progressIntervalMs: number;
  private readonly catchUpTimeoutMs: number;
  private runner?: ProjectionRunner<W>;

  constructor(private readonly options: ProjectionRebuildOptions<W>) {
    this.swapLag = options.swapLag ?? 1_000;
    if (!Number.isInteger(this.swapLag) || this.swapLag < 0) throw new InvalidOptionError(`ProjectionRebuild option swapLag must be a whole number of 0 or more, got ${this.swapLag}`);
    this.progressIntervalMs = options.progressIntervalMs ?? 500;
    this.catchUpTimeoutMs = options.catchUpTimeoutMs ?? 60_000;
  }

  /** Listens to an instrumentation event; returns the function that stops listening. */
  on<E extends keyof ProjectionRebuildEvents>(event: E, listener: (payload: ProjectionRebuildEvents[E]) => void): () => void {
    return this.instrumentation.on(event, listener);
  }

  /** Rebuilds and swaps; resolves once the shadow is live. */
  async run(): Promise<ProjectionRebuildResult> {
    const runner = new ProjectionRunner<W>({ ...this.options, version: 'shadow' });
    this.runner = runner;
    const { store } = this.options;
    const name = runner.name;
    const admin = await connectAdmin(this.options.brokers, this.options.kafkaConfig ?? {}, this.options.startupTimeoutMs ?? 10_000);
    let events = 0;
    runner.on('projection.committed', (commit) => (events += commit.events));
    const startedAt = Date.now();
    try {
      await store.prepare();
      await store.createShadow(name);
      const totalRecords = await lagOf(admin, runner.topics, []);
      this.instrumentation.emit('rebuild.started', () => ({ projection: name, totalRecords }));
      await runner.start();
      for (;;) {
        this.failIfStopped(runner);
        const lag = await lagOf(admin, runner.topics, await store.readOffsets(shadowSlot(name)));
        const elapsed = Math.max(1, Date.now() - startedAt);
        const done = Math.max(0, totalRecords - lag);
        this.instrumentation.emit('rebuild.progress', () => ({
          projection: name,
          handled: events,
          lag,
          fraction: totalRecords === 0 ? 1 : Math.min(1, done / totalRecords),
          eventsPerSecond: Math.round((events * 1000) / elapsed),
          etaMs: lag === 0 ? 0 : done === 0 ? Number.POSITIVE_INFINITY : Math.round((lag * elapsed) / done),
        }));
        if (lag <= this.swapLag) break;
        await runner.nextCommit(this.progressIntervalMs);
        await sleep(Math.max(0, this.progressIntervalMs - 50));
      }
      this.instrumentation.emit('rebuild.swapping', () => ({ projection: name, lag: 0 }));
      await store.swap(name, (live) => this.catchUp(runner, live));
      const elapsedMs = Date.now() - startedAt;
      const result = { projection: name, events, elapsedMs, eventsPerSecond: Math.round((events * 1000) / Math.max(1, elapsedMs)) };
      this.instrumentation.emit('rebuild.swapped', () => result);
      return result;
    } finally {
      await runner.stop();
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Stops a rebuild in progress; the shadow stays until the next rebuild empties it. */
  async stop(): Promise<void> {
    await this.runner?.stop();
  }

  /** Waits until the shadow runner has committed at least the live offsets in every partition. */
  private async catchUp(runner: ProjectionRunner<W>, live: readonly PartitionOffset[]): Promise<void> {
    const deadline = Date.now() + this.catchUpTimeoutMs;
    const behind = () => {
      const shadow = new Map(runner.committedOffsets().map((offset) => [`${offset.topic}\u0000${offset.partition}`, BigInt(offset.nextOffset)]));
      return live.filter((offset) => (shadow.get(`${offset.topic}\u0000${offset.partition}`) ?? -1n) < BigInt(offset.nextOffset));
    };
    while (behind().length > 0) {
      this.failIfStopped(runner);
      // Past the deadline the store's check names the partition behind.
      if (Date.now() > deadline) return;
      await runner.nextCommit(200);
    }
  }

  private failIfStopped(runner: ProjectionRunner<W>): void {
    if (runner.state === 'failed') throw runner.error;
    if (runner.state === 'stopped' || runner.state === 'stopping') throw new InvalidOptionError(`The rebuild of '${runner.name}' was stopped`);
  }
}

/** Records between the given offsets (the start where none) and the end of every partition of the topics. */
async function lagOf(admin: Admin, topics: readonly string[], offsets: readonly PartitionOffset[]): Promise<number> {
  const stored = new Map(offsets.map((offset) => [`${offset.topic}\u0000${offset.partition}`, BigInt(offset.nextOffset)]));
  let lag = 0n;
  for (const topic of topics) {
    for (const { partition, low, high } of await fetchTopicOffsets(admin, topic)) {
      const from = stored.get(`${topic}\u0000${partition}`) ?? BigInt(low);
      if (BigInt(high) > from) lag += BigInt(high) - from;
    }
  }
  return Number(lag);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
