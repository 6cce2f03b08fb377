/**
 * The one helper integration tests (`*.int.test.ts`) use to reach the running
 * services. test-support/global-fixtures.js starts Kafka and the schema
 * registry when KAFKA_BROKERS / SCHEMA_REGISTRY_URL are unset, and sets them.
 *
 * @example
 * const kafka = createKafka();
 * const admin = kafka.admin();
 * await admin.connect();
 * const topic = uniqueName('orders.events');
 * await createTopic(admin, topic, { partitions: 3, config: { 'cleanup.policy': 'compact' } });
 */
import { Admin, Kafka, KafkaConfig, KafkaMessage, logLevel } from 'kafkajs';
import { waitForPartitionLeaders } from '@tributary/kafka';

/** Broker addresses from KAFKA_BROKERS (comma-separated host:port). */
export function kafkaBrokers(): string[] {
  const brokers = requiredEnv('KAFKA_BROKERS')
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
  if (brokers.length === 0) throw new Error('KAFKA_BROKERS holds no broker address; expected host:port[,host:port…].');
  return brokers;
}

/** The Confluent-compatible registry base URL, e.g. http://127.0.0.1:8081/apis/ccompat/v7. */
export function schemaRegistryUrl(): string {
  return requiredEnv('SCHEMA_REGISTRY_URL').replace(/\/+$/, '');
}

/** The test PostgreSQL database: DATABASE_URL, or the local one (trust auth, database `test`). */
export function postgresUrl(): string {
  return process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
}

/** The test Redis server: REDIS_URL, or the local one. */
export function redisUrl(): string {
  return process.env.REDIS_URL || 'redis://127.0.0.1:6379';
}

/**
 * A kafkajs client for the test broker. Logging is off unless
 * TRIBUTARY_KAFKAJS_LOG_LEVEL is set (error, warn, info or debug): kafkajs logs
 * retriable broker answers, which tests provoke on purpose, at ERROR.
 */
export function createKafka(clientId = 'tributary-test', config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId,
    brokers: kafkaBrokers(),
    logLevel: kafkajsLogLevel(),
    ...config,
  });
}

let nameCounter = 0;

/**
 * A topic, group or transactional id no other test (or test run against the
 * same broker) uses: `<prefix>-<pid>-<time>-<counter>`. Only the characters
 * Kafka allows in topic names survive from the prefix.
 */
export function uniqueName(prefix: string): string {
  nameCounter += 1;
  const safePrefix = prefix.replace(/[^a-zA-Z0-9._-]/g, '-');
  return `${safePrefix}-${process.pid}-${Date.now().toString(36)}-${nameCounter}`;
}

export interface TopicOptions {
  partitions?: number;
  /** Topic configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  config?: Record<string, string>;
}

/**
 * Creates a topic and waits for its partition leaders. Fails if the topic
 * already exists, where kafkajs would only return false: with uniqueName that
 * means a test bug. The test broker does not create topics on first use
 * (auto.create.topics.enable=false), so tests create every topic they use.
 */
export async function createTopic(admin: Admin, name: string, options: TopicOptions = {}): Promise<void> {
  const created = await admin.createTopics({
    // kafkajs's own wait gives up while a busy broker still calls the new topic unknown: waitForPartitionLeaders below.
    waitForLeaders: false,
    topics: [
      {
        topic: name,
        numPartitions: options.partitions ?? 1,
        replicationFactor: 1,
        configEntries: Object.entries(options.config ?? {}).map(([configName, value]) => ({ name: configName, value })),
      },
    ],
  });
  if (!created) throw new Error(`Topic ${name} already exists; name test topics with uniqueName().`);
  await waitForPartitionLeaders(admin, [name], 60_000);
}

export interface ReadOptions {
  /** Stop once this returns true for everything read so far. */
  until: (messages: KafkaMessage[]) => boolean;
  /** Read aborted and open transactions too. Default false: read_committed. */
  readUncommitted?: boolean;
  timeoutMs?: number;
}

/**
 * Reads a topic from the beginning, with a fresh consumer group, until
 * `options.until` is satisfied; rejects after `timeoutMs` (default 30 s) with
 * what it has seen.
 */
/** A consumed message with the partition it came from. */
export type ReadMessage = KafkaMessage & { partition: number };

export async function readMessages(kafka: Kafka, topic: string, options: ReadOptions): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({
    groupId: uniqueName('read'),
    readUncommitted: options.readUncommitted ?? false,
  });
  const timeoutMs = options.timeoutMs ?? 30_000;
  const messages: ReadMessage[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    // A snapshot: kafkajs may hand over a few more messages before disconnect returns.
    return await new Promise<ReadMessage[]>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Read ${messages.length} message(s) from ${topic} in ${timeoutMs} ms without satisfying the condition.`)),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ message, partition }) => {
            messages.push({ ...message, partition });
            if (options.until(messages)) {
              clearTimeout(timer);
              resolve([...messages]);
            }
          },
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error);
        });
    });
  } finally {
    await consumer.disconnect();
  }
}

function requiredEnv(name: 'KAFKA_BROKERS' | 'SCHEMA_REGISTRY_URL'): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set. Integration tests get it from test-support/global-fixtures.js, which starts the services ` +
        'when mocha runs *.int.test.ts files; or start them yourself: eval "$(node scripts/services/cli.js start)".',
    );
  }
  return value;
}

function kafkajsLogLevel(): logLevel {
  const levels: Record<string, logLevel> = {
    nothing: logLevel.NOTHING,
    error: logLevel.ERROR,
    warn: logLevel.WARN,
    info: logLevel.INFO,
    debug: logLevel.DEBUG,
  };
  const requested = (process.env.TRIBUTARY_KAFKAJS_LOG_LEVEL ?? 'nothing').toLowerCase();
  const level = levels[requested];
  if (level === undefined) {
    throw new Error(`TRIBUTARY_KAFKAJS_LOG_LEVEL=${requested} is not one of ${Object.keys(levels).join(', ')}.`);
  }
  return level;
}

/** A schema registry of a test's own, which the test may stop (the shared one must keep running). */
export interface OwnSchemaRegistry {
  /** The Confluent-compatible base URL. */
  readonly url: string;
  /** Stops it: later requests are refused, as when a registry goes down. */
  stop(): Promise<void>;
}

/**
 * Starts a real Apicurio registry for one test, through scripts/services (a few
 * seconds: a JVM starts). For tests of what happens when the registry goes away.
 */
export async function startOwnSchemaRegistry(): Promise<OwnSchemaRegistry> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startServices } = require('../scripts/services') as {
    startServices(options: { env: Record<string, string> }): Promise<{ schemaRegistryUrl: string; stop(): Promise<void> }>;
  };
  // A Kafka address in the environment it is given means: start the registry only.
  const services = await startServices({ env: { KAFKA_BROKERS: kafkaBrokers().join(',') } });
  return { url: services.schemaRegistryUrl, stop: () => services.stop() };
}
