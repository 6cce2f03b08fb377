import { ProjectionRunner, ProjectionRunnerEvents, ProjectionRunnerOptions } from '@tributary/projections';
import { eventually } from './catch-up';

type Committed = ProjectionRunnerEvents['projection.committed'] & { readonly at: number };
type Conflict = ProjectionRunnerEvents['projection.conflict'] & { readonly at: number };

/** A ProjectionRunner in this process, with what it reported: commits, conflicts, failures. */
export class TrackedRunner<W> {
  readonly runner: ProjectionRunner<W>;
  readonly commits: Committed[] = [];
  readonly conflicts: Conflict[] = [];
  readonly failures: unknown[] = [];

  constructor(
    readonly label: string,
    options: ProjectionRunnerOptions<W>,
  ) {
    this.runner = new ProjectionRunner<W>(options);
    this.runner.on('projection.committed', (commit) => this.commits.push({ ...commit, at: Date.now() }));
    this.runner.on('projection.conflict', (conflict) => this.conflicts.push({ ...conflict, at: Date.now() }));
    this.runner.on('projection.failed', ({ error }) => this.failures.push(error));
  }

  start(): Promise<void> {
    return this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  /** The partitions the runner holds now, by number. */
  partitions(): number[] {
    return this.runner.status().partitions.map((entry) => Number(entry.slice(entry.lastIndexOf(':') + 1)));
  }

  /** The partitions it committed (handled events in), since `since` (ms epoch). */
  committedPartitions(since = 0): Set<number> {
    return new Set(this.commits.filter((commit) => commit.at >= since && commit.events > 0).map((commit) => commit.partition));
  }

  /** Resolves with the first commit (seen or to come) that matches. */
  async waitForCommit(match: (commit: Committed) => boolean, timeoutMs = 30_000): Promise<Committed> {
    let found: Committed | undefined;
    await eventually(() => (found = this.commits.find(match)) !== undefined, timeoutMs, () => `(${this.label} made no such commit; state ${this.runner.state}, failures ${this.failures.map(describeError).join('; ')})`);
    return found!;
  }

  /** The failures, readable: the error and its cause. */
  describeFailures(): string[] {
    return this.failures.map(describeError);
  }
}

function describeError(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  return cause === undefined ? String(error) : `${String(error)} (cause: ${String(cause)})`;
}
