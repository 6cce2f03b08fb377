import { TributaryError } from '@tributary/core';
import {
  BrokerUnreachableError,
  KafkaOperationError,
  ProducerFencedError,
  TopicMissingError,
} from './errors/kafka.errors';

/** What was going on when a Kafka call failed; it ends up in the error message. */
export interface BrokerErrorContext {
  /** A gerund phrase: `creating topics`, `committing commands of partition 3`. */
  readonly operation: string;
  readonly brokers?: readonly string[];
  readonly transactionalId?: string;
  readonly topic?: string;
  /** How long the operation had been trying, for {@link BrokerUnreachableError}. */
  readonly waitedMs?: number;
}

/** The fields of kafkajs errors the table reads. Duck-typed: two copies of kafkajs may be installed. */
interface KafkaJsLikeError {
  readonly name?: string;
  readonly message?: string;
  /** Broker error name on KafkaJSProtocolError, e.g. `INVALID_PRODUCER_EPOCH`. */
  readonly type?: string;
  /** Numeric on protocol errors, a Node errno string (`ECONNREFUSED`) on connection errors. */
  readonly code?: number | string;
  readonly retriable?: boolean;
  readonly topic?: string;
  readonly cause?: unknown;
  readonly errors?: readonly unknown[];
}

interface BrokerErrorRule {
  /** Why the rule exists; read when the table is changed. */
  readonly reason: string;
  readonly matches: (error: KafkaJsLikeError) => boolean;
  readonly toTributary: (found: KafkaJsLikeError, context: BrokerErrorContext, original: unknown) => TributaryError;
}

const CONNECTION_ERROR_NAMES = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSNoBrokerAvailableError']);
const SOCKET_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE']);
const FENCING_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);

/**
 * The single table from Kafka client errors to Tributary's, read top to bottom;
 * the first rule that matches any error in the cause chain wins. Anything no
 * rule matches becomes a {@link KafkaOperationError}.
 */
const BROKER_ERROR_TABLE: readonly BrokerErrorRule[] = [
  {
    reason:
      'kafkajs reports a refused, timed-out or closed socket as KafkaJSConnectionError, and after its retries as ' +
      'KafkaJSNumberOfRetriesExceeded / KafkaJSNonRetriableError with the connection error as cause.',
    matches: (error) =>
      CONNECTION_ERROR_NAMES.has(error.name ?? '') || (typeof error.code === 'string' && SOCKET_ERROR_CODES.has(error.code)),
    toTributary: (_found, context, original) =>
      new BrokerUnreachableError(context.brokers, context.waitedMs, original, context.operation),
  },
  {
    reason:
      'A newer producer with the same transactional id bumped the epoch. Brokers answer kafkajs (an old client, ' +
      'KIP-588) with INVALID_PRODUCER_EPOCH; PRODUCER_FENCED is listed for clients that know it.',
    matches: (error) => FENCING_TYPES.has(error.type ?? ''),
    toTributary: (_found, context, original) => new ProducerFencedError(context.transactionalId, original),
  },
  {
    reason:
      'kafkajs 2.2.4 predates error code 90 (PRODUCER_FENCED) and reports it as "Unknown error code 90", ' +
      'should a broker send it.',
    matches: (error) => error.type === 'KAFKAJS_UNKNOWN_ERROR_CODE' && /\bUnknown error code 90\b/.test(error.message ?? ''),
    toTributary: (_found, context, original) => new ProducerFencedError(context.transactionalId, original),
  },
  {
    reason: 'The test broker and most production clusters do not create topics on first use.',
    matches: (error) => error.type === 'UNKNOWN_TOPIC_OR_PARTITION',
    toTributary: (found, context, original) => new TopicMissingError(context.topic ?? found.topic, original),
  },
];

/** Causes are followed this deep at most, so a cyclic chain cannot loop. */
const MAX_CAUSE_DEPTH = 8;

/**
 * Turns whatever a kafkajs call threw into a {@link TributaryError}, through
 * one table: unreachable brokers become {@link BrokerUnreachableError}, fencing
 * becomes {@link ProducerFencedError}, an unknown topic {@link TopicMissingError},
 * and anything else {@link KafkaOperationError} with kafkajs' `retriable`.
 * Tributary errors pass through unchanged; the original error is kept as `cause`.
 *
 * @example
 * ```ts
 * try {
 *   await transaction.commit();
 * } catch (error) {
 *   throw toTributaryError(error, { operation: 'committing commands of partition 3', transactionalId: 'shop-cmd-3' });
 * }
 * ```
 */
export function toTributaryError(error: unknown, context: BrokerErrorContext): TributaryError {
  if (error instanceof TributaryError) return error;
  const chain = causeChain(error);
  for (const rule of BROKER_ERROR_TABLE) {
    const found = chain.find(rule.matches);
    if (found) return rule.toTributary(found, context, error);
  }
  return new KafkaOperationError(context.operation, brokerErrorType(chain), outermostRetriable(chain), error);
}

/**
 * The error, then its causes; kafkajs wraps retried failures (cause) and
 * per-topic failures (KafkaJSAggregateError.errors).
 */
function causeChain(error: unknown): KafkaJsLikeError[] {
  const chain: KafkaJsLikeError[] = [];
  const pending: Array<{ error: unknown; depth: number }> = [{ error, depth: 0 }];
  const seen = new Set<unknown>();
  while (pending.length > 0) {
    const { error: next, depth } = pending.shift()!;
    if (next === null || typeof next !== 'object' || seen.has(next) || depth > MAX_CAUSE_DEPTH) continue;
    seen.add(next);
    const candidate = next as KafkaJsLikeError;
    chain.push(candidate);
    if (candidate.cause !== undefined) pending.push({ error: candidate.cause, depth: depth + 1 });
    if (Array.isArray(candidate.errors)) for (const inner of candidate.errors) pending.push({ error: inner, depth: depth + 1 });
  }
  return chain;
}

function brokerErrorType(chain: KafkaJsLikeError[]): string {
  const withType = chain.find((error) => typeof error.type === 'string' && error.type.length > 0);
  if (withType) return withType.type!;
  return chain.find((error) => typeof error.name === 'string' && error.name.length > 0)?.name ?? 'UNKNOWN';
}

/** kafkajs marks errors it already retried as not retriable; it knows best what another try would do. */
function outermostRetriable(chain: KafkaJsLikeError[]): boolean {
  const flagged = chain.find((error) => typeof error.retriable === 'boolean');
  return flagged?.retriable ?? false;
}
