import { Kafka, Producer, ProducerConfig } from 'kafkajs';

/** kafkajs's coordinator type of transactions (`protocol/coordinatorTypes.js`). */
const TRANSACTION_COORDINATOR = 1;
/** How long a transaction coordinator, once found, is asked for again before being looked up anew. */
const COORDINATOR_CACHE_MS = 10_000;

interface ClusterLike {
  findGroupCoordinator(args: { groupId: string; coordinatorType?: number }): Promise<unknown>;
}

/**
 * A transactional producer whose transaction coordinator is looked up once, not
 * before every request. kafkajs 2.2.4 sends FindCoordinator before each
 * AddPartitionsToTxn and each EndTxn: two broker round trips of the five a
 * transaction takes, on every transaction. The lookup is kept for
 * {@link COORDINATOR_CACHE_MS}; a coordinator that moves meanwhile answers
 * NOT_COORDINATOR, the transaction fails, and the processor takes the partition
 * over with a new producer, which looks it up again.
 *
 * kafkajs builds a producer's cluster client with a private function of the
 * client instance; this wraps that function for the one call, then puts it back. With another kafkajs that
 * lacks it, the producer is kafkajs's own, unchanged.
 */
export function transactionalProducer(kafka: Kafka, config: ProducerConfig): Producer {
  const instance = kafka as unknown as Record<symbol, unknown>;
  const createCluster = Object.getOwnPropertySymbols(instance).find((symbol) => symbol.description === 'private:Kafka:createCluster');
  const original = createCluster === undefined ? undefined : instance[createCluster];
  if (createCluster === undefined || typeof original !== 'function') return kafka.producer(config);
  instance[createCluster] = (...args: unknown[]) => {
    const cluster = (original as (...args: unknown[]) => ClusterLike).apply(kafka, args);
    cacheTransactionCoordinator(cluster);
    return cluster;
  };
  try {
    return kafka.producer(config);
  } finally {
    instance[createCluster] = original;
  }
}

function cacheTransactionCoordinator(cluster: ClusterLike): void {
  const find = cluster.findGroupCoordinator.bind(cluster);
  const found = new Map<string, { broker: Promise<unknown>; at: number }>();
  cluster.findGroupCoordinator = (args) => {
    if (args.coordinatorType !== TRANSACTION_COORDINATOR) return find(args);
    const kept = found.get(args.groupId);
    if (kept && Date.now() - kept.at < COORDINATOR_CACHE_MS) return kept.broker;
    const broker = find(args);
    found.set(args.groupId, { broker, at: Date.now() });
    // A failed lookup is not kept.
    broker.catch(() => found.delete(args.groupId));
    return broker;
  };
}
