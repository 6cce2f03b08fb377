import { InvalidOptionError } from '@tributary/core';
import { Admin, ConfigResourceTypes, Kafka, KafkaConfig, RetryOptions, logLevel } from 'kafkajs';
import { toTributaryError } from './broker-error-map';
import {
  BrokerUnreachableError,
  PartitionCountMismatchError,
  TopicMissingError,
  TopicRetentionConfig,
  TopicWouldLoseHistoryError,
  cleanupPolicies,
} from './errors/kafka.errors';
import { TopicLayout, TopicSpec } from './topic-layout';

/** Options of {@link provisionTopics}. */
export interface ProvisionTopicsOptions {
  /** Create the topics that do not exist. Defaults to true; when false, a missing topic is a {@link TopicMissingError}. */
  readonly create?: boolean;
  /** How long to wait for new topics to get partition leaders. Defaults to 30 000 ms. */
  readonly timeoutMs?: number;
}

/** How long start-up may try to reach a broker before {@link BrokerUnreachableError}. */
export const DEFAULT_STARTUP_TIMEOUT_MS = 10_000;

const DEFAULT_LEADER_TIMEOUT_MS = 30_000;
const RETENTION_CONFIG_NAMES = ['cleanup.policy', 'retention.ms', 'retention.bytes'] as const;
/** Broker answers that mean "not ready yet" right after a topic is created, by us or by a concurrent process. */
const NOT_READY_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION']);

/**
 * Makes sure every topic of the app exists and is safe to run on: creates the
 * missing ones with their configs (unless `create: false`), waits for their
 * partition leaders, then checks every topic, whether created now or long ago.
 *
 * It refuses a topic that must keep history (events, snapshots, checkpoints)
 * unless its `cleanup.policy` contains `compact`, and, when it also contains
 * `delete`, unless `retention.ms` and `retention.bytes` are both -1. It refuses
 * any topic whose partition count differs from `layout.partitions`. Topics
 * that already existed are checked before anything is created, so a wrong
 * `partitions` option does not leave new topics with the wrong count behind.
 * Problems are reported one at a time, the same one on every run: first a
 * missing topic, then lost history, then a partition count, each in
 * {@link TopicLayout.topicsFor} order.
 *
 * @throws {@link TopicMissingError}, {@link TopicWouldLoseHistoryError},
 *   {@link PartitionCountMismatchError}, {@link BrokerUnreachableError}, or
 *   {@link KafkaOperationError} for any other broker failure.
 *
 * @example
 * ```ts
 * const admin = await connectAdmin(['localhost:9092']);
 * try {
 *   await provisionTopics(admin, new TopicLayout({ app: 'shop', partitions: 6 }), ['Order', 'Customer']);
 * } finally {
 *   await admin.disconnect();
 * }
 * ```
 */
export async function provisionTopics(
  admin: Admin,
  layout: TopicLayout,
  aggregateTypes: readonly string[],
  options: ProvisionTopicsOptions = {},
): Promise<void> {
  const create = options.create ?? true;
  const timeoutMs = options.timeoutMs ?? DEFAULT_LEADER_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new InvalidOptionError(`provisionTopics option timeoutMs must be positive, got ${timeoutMs}`);
  const specs = layout.topicsFor(aggregateTypes);

  const existingNames = new Set(await kafkaCall(() => admin.listTopics(), { operation: 'listing topics' }));
  const existing = specs.filter((spec) => existingNames.has(spec.name));
  const missing = specs.filter((spec) => !existingNames.has(spec.name));

  if (missing.length > 0 && !create) throw new TopicMissingError(missing[0].name);
  if (existing.length > 0) await verifyTopics(admin, existing, timeoutMs);
  if (missing.length === 0) return;

  await createTopics(admin, layout, missing, timeoutMs);
  // Everything again: a concurrent process may have created some of them, with other settings.
  await verifyTopics(admin, specs, timeoutMs);
}

/**
 * Kafka client settings for the admin used at start-up: a connection timeout
 * and a retry budget that together give up within `timeoutMs` when no broker
 * answers. The rest comes from `base` (ssl, sasl, clientId …); kafkajs logging
 * is off unless `base.logLevel` says otherwise.
 *
 * @example
 * ```ts
 * const kafka = new Kafka(startupClientConfig(['localhost:9092'], 10_000, { clientId: 'shop' }));
 * ```
 */
export function startupClientConfig(
  brokers: readonly string[],
  timeoutMs: number = DEFAULT_STARTUP_TIMEOUT_MS,
  base: Omit<KafkaConfig, 'brokers'> = {},
): KafkaConfig {
  checkBrokers(brokers, 'startupClientConfig');
  checkTimeout(timeoutMs, 'startupClientConfig');
  // A quarter of the budget per connection attempt leaves room for retries; more than 3 s is never needed on a LAN.
  const connectionTimeout = Math.min(base.connectionTimeout ?? 3_000, Math.max(250, Math.floor(timeoutMs / 4)));
  const retry = boundedRetry(timeoutMs, connectionTimeout);
  return { logLevel: logLevel.NOTHING, ...base, brokers: [...brokers], connectionTimeout, retry };
}

/**
 * Connects an admin client for start-up, built with {@link startupClientConfig},
 * and checks that the cluster answers. Gives up within `timeoutMs` with a
 * {@link BrokerUnreachableError}: kafkajs' own retries are sized to fit, and a
 * timer enforces the bound when a broker accepts connections but never answers.
 * The caller owns the returned admin and disconnects it.
 *
 * @example
 * ```ts
 * const admin = await connectAdmin(['localhost:9092'], { clientId: 'shop' }, 10_000);
 * ```
 */
export async function connectAdmin(
  brokers: readonly string[],
  kafkaConfig: Omit<KafkaConfig, 'brokers'> = {},
  timeoutMs: number = DEFAULT_STARTUP_TIMEOUT_MS,
): Promise<Admin> {
  checkBrokers(brokers, 'connectAdmin');
  checkTimeout(timeoutMs, 'connectAdmin');
  const admin = new Kafka(startupClientConfig(brokers, timeoutMs, kafkaConfig)).admin();
  const operation = 'connecting to Kafka at start-up';
  const startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BrokerUnreachableError(brokers, Date.now() - startedAt, undefined, operation)), timeoutMs);
  });
  try {
    await Promise.race([
      (async () => {
        await admin.connect();
        // connect() only reaches the seed broker; metadata proves the cluster answers requests.
        await admin.describeCluster();
      })(),
      deadline,
    ]);
    return admin;
  } catch (error) {
    // Not awaited: kafkajs waits for in-flight requests, which a silent broker never answers.
    admin.disconnect().catch(() => undefined);
    throw toTributaryError(error, { operation, brokers, waitedMs: Date.now() - startedAt });
  } finally {
    clearTimeout(timer);
  }
}

async function createTopics(admin: Admin, layout: TopicLayout, specs: readonly TopicSpec[], timeoutMs: number): Promise<void> {
  try {
    // Resolves false, not rejects, when every topic already exists: a concurrent process won the race.
    // No waitForLeaders: kafkajs's wait gives up on UNKNOWN_TOPIC_OR_PARTITION, which a busy broker answers
    // for a moment after creating a topic; the verification that follows waits for the leaders itself.
    await admin.createTopics({
      waitForLeaders: false,
      timeout: timeoutMs,
      topics: specs.map((spec) => ({
        topic: spec.name,
        numPartitions: spec.partitions,
        replicationFactor: layout.replicationFactor,
        configEntries: Object.entries(spec.config).map(([name, value]) => ({ name, value })),
      })),
    });
  } catch (error) {
    // Created, but waiting for the leaders raced another process creating them too: metadata lags a moment.
    // The verification that follows waits for the partitions and names any topic really missing.
    if (NOT_READY_YET.has((error as { type?: string } | null)?.type ?? '')) return;
    // Some topics lost the race (TOPIC_ALREADY_EXISTS) while others failed for real: report the real failure.
    const realFailure = topicCreationErrors(error).find((inner) => inner.type !== 'TOPIC_ALREADY_EXISTS');
    if (realFailure === undefined && topicCreationErrors(error).length > 0) return;
    throw toTributaryError(realFailure ?? error, { operation: 'creating topics', topic: realFailure?.topic });
  }
}

/** The per-topic errors inside the KafkaJSAggregateError that createTopics throws. */
function topicCreationErrors(error: unknown): Array<{ type?: string; topic?: string }> {
  const errors = (error as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) ? (errors as Array<{ type?: string; topic?: string }>) : [];
}

async function verifyTopics(admin: Admin, specs: readonly TopicSpec[], timeoutMs: number): Promise<void> {
  const partitionCounts = await waitForPartitionLeaders(admin, specs.map((spec) => spec.name), timeoutMs);
  await verifyRetention(admin, specs);
  for (const spec of specs) {
    const actual = partitionCounts.get(spec.name);
    if (actual === undefined) throw new TopicMissingError(spec.name);
    if (actual !== spec.partitions) throw new PartitionCountMismatchError(spec.name, spec.partitions, actual);
  }
}

/**
 * Refuses, with {@link TopicWouldLoseHistoryError}, a topic that must keep its
 * history and whose retention settings would delete records; a topic that is
 * gone is a {@link TopicMissingError}. Internal: used by {@link provisionTopics}
 * and by stores that provision a topic of their own.
 */
export async function verifyRetention(admin: Admin, specs: readonly TopicSpec[]): Promise<void> {
  const retention = await describeRetention(admin, specs);
  for (const spec of specs) {
    const config = retention.get(spec.name);
    // Deleted between listing and describing.
    if (config === undefined) throw new TopicMissingError(spec.name);
    if (spec.mustKeepHistory && wouldLoseHistory(config)) throw new TopicWouldLoseHistoryError(spec.name, config);
  }
}

/**
 * Compaction alone keeps every event, since each key is unique. Adding
 * `delete` lets retention remove old records unless both limits are off.
 */
function wouldLoseHistory(config: TopicRetentionConfig): boolean {
  const policies = cleanupPolicies(config['cleanup.policy']);
  if (!policies.includes('compact')) return true;
  if (!policies.includes('delete')) return false;
  return config['retention.ms'] !== '-1' || config['retention.bytes'] !== '-1';
}

/**
 * Partition counts of topics, once every partition has a leader. Right after
 * creation the broker may still say a topic is unknown or leaderless (for
 * longer on a busy broker); retry until `timeoutMs`, then report what it last
 * said. Wait with this after `admin.createTopics`, whose own `waitForLeaders`
 * gives up when the topic is still unknown. Internal: shared by the packages
 * that create topics.
 */
export async function waitForPartitionLeaders(admin: Admin, names: readonly string[], timeoutMs: number = DEFAULT_LEADER_TIMEOUT_MS): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let notReady: unknown;
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [...names] });
      const leaderless = topics.find((topic) => topic.partitions.length === 0 || topic.partitions.some((p) => p.leader < 0));
      if (leaderless === undefined) return new Map(topics.map((topic) => [topic.name, topic.partitions.length]));
      notReady = Object.assign(new Error(`Topic ${leaderless.name} has partitions without a leader`), {
        type: 'LEADER_NOT_AVAILABLE',
        retriable: true,
        topic: leaderless.name,
      });
    } catch (error) {
      if (!isNotReadyYet(error)) throw toTributaryError(error, { operation: 'reading topic metadata' });
      notReady = error;
    }
    if (Date.now() >= deadline) {
      const topic = (notReady as { topic?: string }).topic;
      throw toTributaryError(notReady, { operation: `waiting ${timeoutMs} ms for the partition leaders of ${names.join(', ')}`, topic });
    }
    await sleep(Math.min(200, Math.max(0, deadline - Date.now())));
  }
}

function isNotReadyYet(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && typeof current === 'object' && depth < 8; depth += 1) {
    const { type, cause } = current as { type?: string; cause?: unknown };
    if (type !== undefined && NOT_READY_YET.has(type)) return true;
    current = cause;
  }
  return false;
}

async function describeRetention(admin: Admin, specs: readonly TopicSpec[]): Promise<Map<string, TopicRetentionConfig>> {
  const { resources } = await kafkaCall(
    () =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: specs.map((spec) => ({ type: ConfigResourceTypes.TOPIC, name: spec.name, configNames: [...RETENTION_CONFIG_NAMES] })),
      }),
    { operation: 'reading topic configs' },
  );
  const byTopic = new Map<string, TopicRetentionConfig>();
  for (const resource of resources) {
    const value = (name: string): string =>
      // An absent value counts as finite retention: refusing wrongly is recoverable, losing events is not.
      resource.configEntries.find((entry) => entry.configName === name)?.configValue ?? '(not reported)';
    byTopic.set(resource.resourceName, {
      'cleanup.policy': value('cleanup.policy'),
      'retention.ms': value('retention.ms'),
      'retention.bytes': value('retention.bytes'),
    });
  }
  return byTopic;
}

async function kafkaCall<T>(call: () => Promise<T>, context: { operation: string; topic?: string }): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toTributaryError(error, context);
  }
}

/**
 * The most retries whose worst case (every attempt hitting the connection
 * timeout, every jittered delay at its maximum) still fits in `timeoutMs`.
 */
function boundedRetry(timeoutMs: number, connectionTimeout: number): RetryOptions {
  const initialRetryTime = 200;
  const factor = 0.2;
  const multiplier = 2;
  const maxRetryTime = Math.max(initialRetryTime, Math.floor(timeoutMs / 4));
  let elapsed = connectionTimeout;
  let delay = initialRetryTime * (1 + factor);
  let retries = 0;
  while (elapsed + delay + connectionTimeout <= timeoutMs) {
    elapsed += delay + connectionTimeout;
    retries += 1;
    delay = Math.min(delay * (1 + factor) * multiplier, maxRetryTime);
  }
  return { initialRetryTime, factor, multiplier, maxRetryTime, retries };
}

function checkBrokers(brokers: readonly string[], component: string): void {
  if (!Array.isArray(brokers) || brokers.length === 0 || brokers.some((broker) => typeof broker !== 'string' || !broker.includes(':'))) {
    throw new InvalidOptionError(`${component} needs a non-empty array of 'host:port' broker addresses, got ${JSON.stringify(brokers)}`);
  }
}

function checkTimeout(timeoutMs: number, component: string): void {
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new InvalidOptionError(`${component} timeoutMs must be a positive number of milliseconds, got ${JSON.stringify(timeoutMs)}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
