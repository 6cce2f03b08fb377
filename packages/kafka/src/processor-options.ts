import { AnyClass, InvalidOptionError, Upcaster, decidedCommandsLimit } from '@tributary/core';
import { FileSystemPartitionStateStore, partitionStateDirectory } from './file-system-state-store';
import { GROUP_TIMING_DEFAULTS } from './group-timing';
import { KafkaConnectionOptions, ResolvedConnectionOptions, resolveConnectionOptions } from './kafka-options';
import { InMemoryPartitionStateStore, PartitionStateStore } from './partition-state-store';
import { DEFAULT_STOP_SIGNALS } from './stop-on-signals';

/** Options of {@link CommandProcessor}. */
export interface CommandProcessorOptions extends KafkaConnectionOptions {
  /** Create missing topics at start-up (then verify them either way). Defaults to true. */
  readonly createTopics?: boolean;
  /** Most commands committed in one transaction. Defaults to 100. */
  readonly maxCommandsPerTransaction?: number;
  /**
   * A fresh local state store for each partition this processor takes, for a
   * custom store. Defaults to {@link InMemoryPartitionStateStore}, or to a
   * {@link FileSystemPartitionStateStore} when `stateDirectory` is set. A store
   * with the durability hooks of {@link PartitionStateStore} (`persistedCheckpoint`,
   * `commit`, `clear`) is reused on assignment when its persisted checkpoint is the
   * partition's checkpoint in Kafka; otherwise it is cleared and restored from the
   * snapshots topics. Not together with `stateDirectory`.
   */
  readonly stateStore?: (partition: number) => PartitionStateStore;
  /**
   * Keep each partition's local state on local disk as well as in memory, under
   * `<stateDirectory>/<app>/<partition>` ({@link FileSystemPartitionStateStore}),
   * for fast restarts: a processor that gets back a partition whose state it
   * persisted, with no command processed since by anyone, skips reading the
   * snapshots topics. Kafka stays the source of truth: the persisted state is used
   * only if its checkpoint is the one in Kafka, read after fencing, and else
   * restored from the topics. Processors may share a directory: a partition's
   * files are written by its owner, and a superseded owner cannot corrupt them.
   * Delete it if the app's topics are deleted and recreated. Unset by default: in
   * memory only. Not together with `stateStore`.
   */
  readonly stateDirectory?: string;
  /** Bound on restoring a partition's state (and on rebuilding aggregates of a changed shape). Defaults to 60 000 ms. */
  readonly restoreTimeoutMs?: number;
  /**
   * Consumer group session timeout: how long a killed or frozen processor keeps
   * its partitions before they move. Defaults to 10 000 ms (`GROUP_TIMING_DEFAULTS`).
   */
  readonly sessionTimeoutMs?: number;
  /** How often the processor heartbeats, which bounds how soon it joins a rebalance. Defaults to 1 000 ms. */
  readonly heartbeatIntervalMs?: number;
  /** Plain event stream types served through the EventStore seam ({@link KafkaEventStore}), besides the aggregates. */
  readonly streams?: readonly string[];
  /**
   * How many decided command ids each aggregate keeps, with their outcomes, in
   * its state record: a command sent again with one of them is answered with
   * that outcome and decides nothing. Defaults to 64; 0 keeps none.
   */
  readonly decidedCommandsPerAggregate?: number;
  /**
   * Upcasters from older stored events to the current classes. The processor
   * needs them only to rebuild aggregates whose state was written in another
   * shape (after a deploy that changed an aggregate, its events or upcasters).
   */
  readonly upcasters?: Iterable<Upcaster>;
  /** Past versions of events still in the topics, so upcasters can read them. */
  readonly events?: readonly AnyClass[];
  /**
   * Stop gracefully (finish the transaction in hand, leave the group so the
   * partitions move at once) when the process gets one of these signals; then
   * the signal ends the process unless the application listens to it too.
   * Defaults to SIGTERM and SIGINT; `false` installs no handler.
   */
  readonly stopOnSignals?: readonly NodeJS.Signals[] | false;
}

/** The processor's options, checked and with their defaults. */
export interface ResolvedProcessorOptions extends ResolvedConnectionOptions {
  readonly createTopics: boolean;
  readonly maxCommandsPerTransaction: number;
  readonly stateStore: (partition: number) => PartitionStateStore;
  readonly restoreTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly streams: readonly string[];
  readonly decidedCommandsPerAggregate: number;
  readonly upcasters: Iterable<Upcaster>;
  readonly events: readonly AnyClass[];
  readonly stopOnSignals: readonly NodeJS.Signals[];
}

/** Checks a processor's options with guard clauses whose messages say what to do, and fills in the defaults. */
export function resolveProcessorOptions(options: CommandProcessorOptions): ResolvedProcessorOptions {
  const connection = resolveConnectionOptions(options, 'CommandProcessor');
  const wholeAtLeast = (name: keyof CommandProcessorOptions, value: number, minimum: number): number => {
    if (!Number.isInteger(value) || value < minimum) {
      throw new InvalidOptionError(`CommandProcessor option ${name} must be a whole number of at least ${minimum}, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const maxCommandsPerTransaction = wholeAtLeast('maxCommandsPerTransaction', options.maxCommandsPerTransaction ?? 100, 1);
  const sessionTimeoutMs = wholeAtLeast('sessionTimeoutMs', options.sessionTimeoutMs ?? GROUP_TIMING_DEFAULTS.sessionTimeoutMs, 1);
  const heartbeatIntervalMs = wholeAtLeast(
    'heartbeatIntervalMs',
    options.heartbeatIntervalMs ?? Math.min(GROUP_TIMING_DEFAULTS.heartbeatIntervalMs, Math.floor(sessionTimeoutMs / 3)),
    1,
  );
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new InvalidOptionError(
      `CommandProcessor option heartbeatIntervalMs (${heartbeatIntervalMs}) must be below sessionTimeoutMs (${sessionTimeoutMs}), ideally a third of it or less`,
    );
  }
  const restoreTimeoutMs = wholeAtLeast('restoreTimeoutMs', options.restoreTimeoutMs ?? 60_000, 1);
  if (options.stateDirectory !== undefined && (typeof options.stateDirectory !== 'string' || options.stateDirectory.length === 0 || options.stateStore)) {
    throw new InvalidOptionError('CommandProcessor option stateDirectory must be a non-empty path, and cannot be combined with stateStore');
  }
  const stateDirectory = options.stateDirectory;
  const stopOnSignals = options.stopOnSignals === false ? [] : (options.stopOnSignals ?? DEFAULT_STOP_SIGNALS);
  if (!Array.isArray(stopOnSignals)) {
    throw new InvalidOptionError(`CommandProcessor option stopOnSignals must be an array of signal names or false, got ${JSON.stringify(options.stopOnSignals)}`);
  }
  return {
    ...connection,
    createTopics: options.createTopics ?? true,
    maxCommandsPerTransaction,
    stateStore:
      options.stateStore ??
      (stateDirectory === undefined
        ? () => new InMemoryPartitionStateStore()
        : (partition) => new FileSystemPartitionStateStore({ directory: partitionStateDirectory(stateDirectory, connection.app, partition) })),
    restoreTimeoutMs,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    streams: options.streams ?? [],
    decidedCommandsPerAggregate: decidedCommandsLimit(options.decidedCommandsPerAggregate, 'CommandProcessor'),
    upcasters: options.upcasters ?? [],
    events: options.events ?? [],
    stopOnSignals,
  };
}
