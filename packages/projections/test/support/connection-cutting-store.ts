import { BatchCommit, BatchContext, CommitOutcome, ReadModelStore } from '@tributary/core';
import { PostgresWriter } from '@tributary/postgres';
import { Pool } from 'pg';
import { eventually } from './catch-up';
import { StoreWrapper } from './store-wrapper';

/**
 * A real PostgreSQL store whose live commits of one partition lose their
 * database connection while it is cut: once the handlers have written into
 * the transaction, its backend is terminated (pg_terminate_backend, as a
 * restart of the server or a network cut ends it), so the store's next
 * statement fails with its own transient error, PostgreSQL rolls everything
 * back, and the runner retries. Other partitions commit as usual.
 */
export class ConnectionCuttingStore extends StoreWrapper<PostgresWriter> {
  /** Commits whose connection was cut so far. */
  cuts = 0;
  private cutPartition?: number;

  constructor(
    inner: ReadModelStore<PostgresWriter>,
    /** A pool of its own, to terminate the store's connections from. */
    private readonly terminator: Pool,
  ) {
    super(inner);
  }

  /** Cuts the connection of every live commit of `partition` from now on. */
  cut(partition: number): void {
    this.cutPartition = partition;
  }

  /** Lets commits through again. */
  restore(): void {
    this.cutPartition = undefined;
  }

  override commit(batch: BatchCommit, work: (context: BatchContext<PostgresWriter>) => Promise<string>): Promise<CommitOutcome> {
    if (batch.slot.version !== 'live') return this.inner.commit(batch, work);
    return this.inner.commit(batch, async (context) => {
      const next = await work(context);
      if (this.cutPartition === batch.partition) {
        const { rows } = await context.writer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await this.terminator.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
        await eventually(async () => (await this.terminator.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [rows[0].pid])).rowCount === 0, 10_000);
        this.cuts += 1;
      }
      return next;
    });
  }
}
