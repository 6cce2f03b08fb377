import { ConfigurationError, TributaryError } from '@tributary/core';

/** The retention settings of a topic, as the broker reports them. */
export interface TopicRetentionConfig {
  readonly 'cleanup.policy': string;
  readonly 'retention.ms': string;
  readonly 'retention.bytes': string;
}

/**
 * A topic that must keep every record (events, snapshots, checkpoints) is set
 * up so that Kafka would delete old records. Tributary refuses to run on it:
 * the loss would be silent and permanent.
 *
 * @example
 * ```ts
 * try {
 *   await provisionTopics(admin, layout, ['Order']);
 * } catch (error) {
 *   if (error instanceof TopicWouldLoseHistoryError) console.error(error.topic, error.config);
 *   throw error;
 * }
 * ```
 */
export class TopicWouldLoseHistoryError extends ConfigurationError {
  static readonly code = 'TOPIC_WOULD_LOSE_HISTORY';
  constructor(
    readonly topic: string,
    readonly config: TopicRetentionConfig,
  ) {
    const found = `cleanup.policy=${config['cleanup.policy']}, retention.ms=${config['retention.ms']}, retention.bytes=${config['retention.bytes']}`;
    const policies = cleanupPolicies(config['cleanup.policy']);
    const remedy = policies.includes('compact')
      ? `Set cleanup.policy=compact (drop delete), or keep compact,delete with retention.ms=-1 and retention.bytes=-1`
      : `Set cleanup.policy=compact`;
    super(
      `Topic ${topic} would lose history: ${found} lets Kafka delete old records, and Tributary keeps its events, ` +
        `snapshots and checkpoints nowhere else. ${remedy}, e.g. kafka-configs.sh --alter --entity-type topics ` +
        `--entity-name ${topic} --add-config cleanup.policy=compact. Compaction keeps every event because each ` +
        `event's key (<aggregateId>:<sequence>) is unique.`,
      TopicWouldLoseHistoryError.code,
    );
  }
}

/**
 * A topic of the app has another partition count than the app is configured with.
 */
export class PartitionCountMismatchError extends ConfigurationError {
  static readonly code = 'PARTITION_COUNT_MISMATCH';
  constructor(
    readonly topic: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(
      `Topic ${topic} has ${actual} partition(s), but the app is configured with ${expected}. All Tributary topics of an ` +
        `app must have the same count, because command partition p writes partition p of the events, snapshots and ` +
        `checkpoints topics. If ${actual} is the count the app was created with, set the partitions option to ${actual}. ` +
        `Kafka cannot lower a topic's partition count, and raising it moves aggregates to other partitions, ` +
        `so changing it needs a migration to new topics.`,
      PartitionCountMismatchError.code,
    );
  }
}

/** A topic the app needs does not exist, and Tributary was told not to create topics. */
export class TopicMissingError extends ConfigurationError {
  static readonly code = 'TOPIC_MISSING';
  constructor(
    readonly topic: string | undefined,
    cause?: unknown,
  ) {
    super(
      `${topic === undefined ? 'A topic the app uses' : `Topic ${topic}`} does not exist. Create it with the ` +
        `partitions and configs that TopicLayout.topicsFor() lists, or let Tributary create it (createTopics: true).`,
      TopicMissingError.code,
      cause,
    );
  }
}

/**
 * No Kafka broker could be reached. Retriable: the broker may be starting or
 * the network may come back.
 */
export class BrokerUnreachableError extends TributaryError {
  static readonly code = 'BROKER_UNREACHABLE';
  constructor(
    readonly brokers: readonly string[] | undefined,
    /** How long Tributary tried before giving up, or undefined when unknown. */
    readonly waitedMs: number | undefined,
    cause?: unknown,
    operation?: string,
  ) {
    const where = brokers && brokers.length > 0 ? brokers.join(', ') : 'the configured brokers';
    const when = operation ? ` while ${operation}` : '';
    const howLong = waitedMs === undefined ? '' : ` (tried for ${Math.round(waitedMs)} ms)`;
    super(
      `Could not reach a Kafka broker at ${where}${howLong}${when}. Check that KAFKA_BROKERS (the brokers option) ` +
        `lists host:port addresses this process can reach, and that the broker is running.`,
      { code: BrokerUnreachableError.code, retriable: true, cause },
    );
  }
}

/**
 * A transactional producer was fenced: another process connected with the same
 * transactional id, so it now owns that command partition. Not retriable: this
 * producer must be closed and the partition's state dropped.
 */
export class ProducerFencedError extends TributaryError {
  static readonly code = 'PRODUCER_FENCED';
  constructor(
    readonly transactionalId: string | undefined,
    cause?: unknown,
  ) {
    super(
      `The producer with transactional id ${transactionalId ?? '(unknown)'} was fenced: another process took over ` +
        `that command partition with the same transactional id. Close this producer and drop the partition's state; ` +
        `never retry with it.`,
      { code: ProducerFencedError.code, retriable: false, cause },
    );
  }
}

/**
 * Any other failure of a Kafka operation. `brokerErrorType` is the broker's
 * error name (e.g. `POLICY_VIOLATION`) or, when the broker gave none, the
 * client error's name; `retriable` is what the Kafka client says about it.
 */
export class KafkaOperationError extends TributaryError {
  static readonly code = 'KAFKA_OPERATION_FAILED';
  constructor(
    readonly operation: string,
    readonly brokerErrorType: string,
    retriable: boolean,
    cause?: unknown,
  ) {
    const detail = cause instanceof Error ? `: ${cause.message}` : cause === undefined ? '' : `: ${String(cause)}`;
    super(
      `Kafka failed while ${operation} (${brokerErrorType})${detail}. ` +
        (retriable ? 'This may pass; try again.' : 'Trying again will not help; fix the cause first.'),
      { code: KafkaOperationError.code, retriable, cause },
    );
  }
}

/** `compact,delete` → `['compact', 'delete']`; tolerates the `[compact, delete]` list form. */
export function cleanupPolicies(value: string): string[] {
  return value
    .replace(/[[\]]/g, '')
    .split(',')
    .map((policy) => policy.trim().toLowerCase())
    .filter((policy) => policy.length > 0);
}
