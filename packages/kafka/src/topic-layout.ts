import { InvalidOptionError } from '@tributary/core';

/** Options of a {@link TopicLayout}. */
export interface TopicLayoutOptions {
  /** Names the app; its topics, groups and transactional ids start with it unless `prefix` is given. */
  readonly app: string;
  /** Starts every topic name, group id and transactional id. Defaults to `app`. */
  readonly prefix?: string;
  /** Partitions of every topic of the app. Command partition p writes partition p of the others. */
  readonly partitions: number;
  /** Replicas of each topic Tributary creates. Defaults to -1: the broker's `default.replication.factor`. */
  readonly replicationFactor?: number;
}

/** What a topic is for. */
export type TopicKind = 'events' | 'snapshots' | 'checkpoints' | 'commands' | 'replies' | 'snapshot-store';

/** A topic the app needs, with what it must look like. */
export interface TopicSpec {
  readonly name: string;
  readonly kind: TopicKind;
  readonly partitions: number;
  /** Topic configs to create it with, e.g. `{ 'cleanup.policy': 'compact' }`. */
  readonly config: Readonly<Record<string, string>>;
  /** True when losing any record would lose history or state: retention must never delete. */
  readonly mustKeepHistory: boolean;
}

/** Characters Kafka allows in topic names. */
const TOPIC_LEGAL = /^[a-zA-Z0-9._-]+$/;
/** Kafka's limit on topic name length. */
const MAX_TOPIC_NAME_LENGTH = 249;

/** Replies only need to outlive the caller's wait for them. */
const REPLY_RETENTION_MS = '3600000';

/**
 * The names and required shape of every topic, group and transactional id of
 * one Tributary app. Pure: it talks to no broker.
 *
 * @example
 * ```ts
 * const layout = new TopicLayout({ app: 'shop', partitions: 6 });
 * layout.commands;               // 'shop.commands'
 * layout.events('Order');        // 'shop.Order.events'
 * layout.transactionalId(2);     // 'shop-cmd-2'
 * layout.topicsFor(['Order']);   // commands, replies, checkpoints, shop.Order.events, shop.Order.snapshots
 * ```
 */
export class TopicLayout {
  readonly app: string;
  readonly prefix: string;
  readonly partitions: number;
  readonly replicationFactor: number;

  constructor(options: TopicLayoutOptions) {
    if (!options || typeof options !== 'object') {
      throw new InvalidOptionError('TopicLayout needs options: { app, partitions }');
    }
    const { app, partitions } = options;
    if (typeof app !== 'string' || app.length === 0) {
      throw new InvalidOptionError(`TopicLayout option app must be a non-empty string, got ${JSON.stringify(app)}`);
    }
    if (!TOPIC_LEGAL.test(app)) {
      throw new InvalidOptionError(
        `TopicLayout option app ${JSON.stringify(app)} cannot be part of a Kafka topic name; use only letters, digits, '.', '_' and '-'`,
      );
    }
    const prefix = options.prefix ?? app;
    if (typeof prefix !== 'string' || !TOPIC_LEGAL.test(prefix)) {
      throw new InvalidOptionError(
        `TopicLayout option prefix ${JSON.stringify(prefix)} cannot start a Kafka topic name; use a non-empty string of letters, digits, '.', '_' and '-'`,
      );
    }
    if (typeof partitions !== 'number' || !Number.isInteger(partitions) || partitions < 1) {
      throw new InvalidOptionError(`TopicLayout option partitions must be a whole number of at least 1, got ${JSON.stringify(partitions)}`);
    }
    const replicationFactor = options.replicationFactor ?? -1;
    if (!Number.isInteger(replicationFactor) || (replicationFactor < 1 && replicationFactor !== -1)) {
      throw new InvalidOptionError(
        `TopicLayout option replicationFactor must be a whole number of at least 1, or -1 for the broker's default, got ${JSON.stringify(replicationFactor)}`,
      );
    }
    this.app = app;
    this.prefix = prefix;
    this.partitions = partitions;
    this.replicationFactor = replicationFactor;
    // The longest fixed name; aggregate topics are checked when they are named.
    this.topicName(`${prefix}.checkpoints`, 'option prefix');
  }

  /** Where callers send commands, keyed by aggregate id. */
  get commands(): string {
    return `${this.prefix}.commands`;
  }

  /** Where processors answer callers, one reply per command. */
  get replies(): string {
    return `${this.prefix}.replies`;
  }

  /** Where each command partition records how far it has processed, inside its transactions. */
  get checkpoints(): string {
    return `${this.prefix}.checkpoints`;
  }

  /** The consumer group of the command processors. */
  get commandGroupId(): string {
    return `${this.prefix}-cmd`;
  }

  /** The events of one aggregate type, e.g. `shop.Order.events`. */
  events(aggregateType: string): string {
    return this.topicName(`${this.prefix}.${this.checkAggregateType(aggregateType)}.events`, `aggregate type ${JSON.stringify(aggregateType)}`);
  }

  /** The latest state of each aggregate of one type, e.g. `shop.Order.snapshots`. */
  snapshots(aggregateType: string): string {
    return this.topicName(`${this.prefix}.${this.checkAggregateType(aggregateType)}.snapshots`, `aggregate type ${JSON.stringify(aggregateType)}`);
  }

  /**
   * The topic of a `KafkaSnapshotStore`, e.g. `shop.snapshot-store`: snapshots
   * of any aggregate type for the rehydrator, keyed `<aggregateType>:<aggregateId>`.
   * Not {@link TopicLayout.snapshots}, which holds the command processors'
   * partition state in a payload of its own, written only by the partition's
   * owner inside its transactions. No aggregate topic can take this name: those
   * end in `.events` or `.snapshots`. Not in {@link TopicLayout.topicsFor}: the
   * store provisions it when it starts.
   */
  get snapshotStore(): string {
    return this.topicName(`${this.prefix}.snapshot-store`, 'option prefix');
  }

  /**
   * The transactional id of the producer that owns command partition `partition`.
   * Stable per partition, so the next owner's producer fences the previous one.
   */
  transactionalId(partition: number): string {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) {
      throw new InvalidOptionError(
        `Command partition must be a whole number from 0 to ${this.partitions - 1}, got ${JSON.stringify(partition)}`,
      );
    }
    return `${this.prefix}-cmd-${partition}`;
  }

  /**
   * Every topic the app needs for these aggregate types, in a fixed order:
   * commands, replies, checkpoints, then events and snapshots per type in the
   * order given. Repeated types are listed once.
   */
  topicsFor(aggregateTypes: readonly string[]): TopicSpec[] {
    if (!Array.isArray(aggregateTypes)) {
      throw new InvalidOptionError(`topicsFor needs an array of aggregate type names, got ${JSON.stringify(aggregateTypes)}`);
    }
    // Compaction keeps every event: each event's key, <aggregateId>:<sequence>, is unique.
    // Snapshots and checkpoints are keyed by what they describe, so compaction keeps the latest.
    const compacted = (): Record<string, string> => ({ 'cleanup.policy': 'compact' });
    const specs: TopicSpec[] = [
      { name: this.commands, kind: 'commands', partitions: this.partitions, config: { 'cleanup.policy': 'delete' }, mustKeepHistory: false },
      {
        name: this.replies,
        kind: 'replies',
        partitions: this.partitions,
        config: { 'cleanup.policy': 'delete', 'retention.ms': REPLY_RETENTION_MS },
        mustKeepHistory: false,
      },
      { name: this.checkpoints, kind: 'checkpoints', partitions: this.partitions, config: compacted(), mustKeepHistory: true },
    ];
    for (const aggregateType of new Set(aggregateTypes)) {
      specs.push(
        { name: this.events(aggregateType), kind: 'events', partitions: this.partitions, config: compacted(), mustKeepHistory: true },
        { name: this.snapshots(aggregateType), kind: 'snapshots', partitions: this.partitions, config: compacted(), mustKeepHistory: true },
      );
    }
    return specs;
  }

  private checkAggregateType(aggregateType: string): string {
    if (typeof aggregateType !== 'string' || !TOPIC_LEGAL.test(aggregateType)) {
      throw new InvalidOptionError(
        `Aggregate type ${JSON.stringify(aggregateType)} cannot be part of a Kafka topic name; ` +
          `name it in @Aggregate with only letters, digits, '.', '_' and '-'`,
      );
    }
    return aggregateType;
  }

  private topicName(name: string, culprit: string): string {
    if (name.length > MAX_TOPIC_NAME_LENGTH) {
      throw new InvalidOptionError(
        `Topic name ${name} is ${name.length} characters long, over Kafka's ${MAX_TOPIC_NAME_LENGTH}; shorten the ${culprit}`,
      );
    }
    return name;
  }
}
