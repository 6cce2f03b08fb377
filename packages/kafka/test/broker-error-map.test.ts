import { expect } from 'chai';
import { ConfigurationError, TributaryError, WrongExpectedVersionError } from '@tributary/core';
import { toTributaryError } from '../src/broker-error-map';
import {
  BrokerUnreachableError,
  KafkaOperationError,
  ProducerFencedError,
  TopicMissingError,
} from '../src/errors/kafka.errors';

// The JS classes take the broker's error-table entry ({ type, code, retriable, message }),
// which the published typings do not describe.
const kafkajs = require('kafkajs');
// kafkajs' own table from broker error codes to errors, so the tests meet the errors it really throws.
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error };

const INVALID_PRODUCER_EPOCH = 47;
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const POLICY_VIOLATION = 44;
const REQUEST_TIMED_OUT = 7;
const PRODUCER_FENCED = 90;
const TOPIC_ALREADY_EXISTS = 36;

function refused(): Error {
  return new kafkajs.KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1', {
    broker: '127.0.0.1:1',
    code: 'ECONNREFUSED',
  });
}

describe('toTributaryError', () => {
  const context = { operation: 'doing something', brokers: ['127.0.0.1:1'], transactionalId: 'shop-cmd-2', topic: 'shop.Order.events' };

  it('passes Tributary errors through untouched', () => {
    const original = new WrongExpectedVersionError('Order', 'o-1', 1, 2);
    expect(toTributaryError(original, context)).to.equal(original);
  });

  describe('unreachable brokers', () => {
    const cases: Array<[string, () => unknown]> = [
      ['a KafkaJSConnectionError', refused],
      ['a connection timeout', () => new kafkajs.KafkaJSConnectionError('Connection timeout', { broker: '10.0.0.1:9092' })],
      ['a closed connection', () => new kafkajs.KafkaJSConnectionClosedError('Closed connection', { host: 'h', port: 1 })],
      ['retries exhausted on a connection error', () => new kafkajs.KafkaJSNumberOfRetriesExceeded(refused(), { retryCount: 5, retryTime: 100 })],
      ['a non-retriable wrapper of a connection error', () => new kafkajs.KafkaJSNonRetriableError(refused(), { cause: refused() })],
      ['a bare socket error', () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })],
      ['no broker available', () => new kafkajs.KafkaJSNoBrokerAvailableError()],
    ];
    for (const [name, make] of cases) {
      it(`maps ${name} to a retriable BrokerUnreachableError that keeps the cause`, () => {
        const original = make();
        const mapped = toTributaryError(original, { ...context, waitedMs: 1234 });
        expect(mapped).to.be.instanceOf(BrokerUnreachableError);
        expect(mapped.code).to.equal('BROKER_UNREACHABLE').and.equal(BrokerUnreachableError.code);
        expect(mapped.retriable).to.equal(true);
        expect(mapped.cause).to.equal(original);
        expect(mapped.name).to.equal('BrokerUnreachableError');
        expect(mapped.message).to.contain('127.0.0.1:1').and.contain('1234 ms').and.contain('KAFKA_BROKERS').and.contain('doing something');
      });
    }
  });

  describe('fencing', () => {
    const cases: Array<[string, () => unknown]> = [
      ['INVALID_PRODUCER_EPOCH', () => createErrorFromCode(INVALID_PRODUCER_EPOCH)],
      ['INVALID_PRODUCER_EPOCH wrapped by the retrier', () => {
        const inner = createErrorFromCode(INVALID_PRODUCER_EPOCH);
        return new kafkajs.KafkaJSNonRetriableError(inner, { cause: inner });
      }],
      ['PRODUCER_FENCED, which kafkajs 2.2.4 reports as an unknown code', () => createErrorFromCode(PRODUCER_FENCED)],
      ['PRODUCER_FENCED from a client that knows it', () =>
        new kafkajs.KafkaJSProtocolError({ type: 'PRODUCER_FENCED', code: PRODUCER_FENCED, retriable: false, message: 'fenced' })],
    ];
    for (const [name, make] of cases) {
      it(`maps ${name} to a non-retriable ProducerFencedError naming the transactional id`, () => {
        const original = make();
        const mapped = toTributaryError(original, context);
        expect(mapped).to.be.instanceOf(ProducerFencedError);
        expect(mapped.code).to.equal('PRODUCER_FENCED');
        expect(mapped.retriable).to.equal(false);
        expect(mapped.cause).to.equal(original);
        expect((mapped as ProducerFencedError).transactionalId).to.equal('shop-cmd-2');
        expect(mapped.message).to.contain('shop-cmd-2').and.contain('another process took over');
      });
    }
  });

  it('maps UNKNOWN_TOPIC_OR_PARTITION to TopicMissingError, a ConfigurationError naming the topic', () => {
    const original = createErrorFromCode(UNKNOWN_TOPIC_OR_PARTITION);
    const mapped = toTributaryError(original, context);
    expect(mapped).to.be.instanceOf(TopicMissingError).and.instanceOf(ConfigurationError);
    expect(mapped.code).to.equal('TOPIC_MISSING');
    expect(mapped.retriable).to.equal(false);
    expect(mapped.cause).to.equal(original);
    expect(mapped.message).to.contain('shop.Order.events').and.contain('createTopics: true');
  });

  it('takes the topic from a per-topic creation error when the context has none', () => {
    const inner = new kafkajs.KafkaJSCreateTopicError(createErrorFromCode(UNKNOWN_TOPIC_OR_PARTITION), 'shop.replies');
    const original = new kafkajs.KafkaJSAggregateError('Topic creation errors', [inner]);
    const mapped = toTributaryError(original, { operation: 'creating topics' });
    expect(mapped).to.be.instanceOf(TopicMissingError);
    expect((mapped as TopicMissingError).topic).to.equal('shop.replies');
  });

  it('maps any other broker error to KafkaOperationError with its type and kafkajs retriable flag', () => {
    const policy = toTributaryError(createErrorFromCode(POLICY_VIOLATION), context);
    expect(policy).to.be.instanceOf(KafkaOperationError);
    expect(policy.code).to.equal('KAFKA_OPERATION_FAILED');
    expect((policy as KafkaOperationError).brokerErrorType).to.equal('POLICY_VIOLATION');
    expect(policy.retriable).to.equal(false);
    expect(policy.message).to.contain('doing something').and.contain('POLICY_VIOLATION');

    const timedOut = toTributaryError(createErrorFromCode(REQUEST_TIMED_OUT), context);
    expect(timedOut).to.be.instanceOf(KafkaOperationError);
    expect((timedOut as KafkaOperationError).brokerErrorType).to.equal('REQUEST_TIMED_OUT');
    expect(timedOut.retriable).to.equal(true);
  });

  it('takes retriable from the outermost kafkajs error: retries already spent are not retried again', () => {
    const inner = createErrorFromCode(REQUEST_TIMED_OUT);
    const mapped = toTributaryError(new kafkajs.KafkaJSNumberOfRetriesExceeded(inner, { retryCount: 5, retryTime: 100 }), context);
    expect(mapped).to.be.instanceOf(KafkaOperationError);
    expect((mapped as KafkaOperationError).brokerErrorType).to.equal('REQUEST_TIMED_OUT');
    expect(mapped.retriable).to.equal(false);
  });

  it('names client errors that carry no broker type by their class', () => {
    const mapped = toTributaryError(new kafkajs.KafkaJSRequestTimeoutError('Request requestTimeout'), context);
    expect((mapped as KafkaOperationError).brokerErrorType).to.equal('KafkaJSRequestTimeoutError');
    expect(mapped.retriable).to.equal(true);
  });

  it('wraps non-Kafka values too, never returning anything but a TributaryError', () => {
    for (const thrown of ['a string', 42, undefined, null, new TypeError('x is not a function')]) {
      const mapped = toTributaryError(thrown, context);
      expect(mapped).to.be.instanceOf(TributaryError).and.instanceOf(KafkaOperationError);
      expect(mapped.retriable).to.equal(false);
    }
  });

  it('survives a cyclic cause chain', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    const b: Error & { cause?: unknown } = new Error('b');
    a.cause = b;
    b.cause = a;
    expect(toTributaryError(a, context)).to.be.instanceOf(KafkaOperationError);
  });

  it('does not treat a topic that already exists as missing', () => {
    expect(toTributaryError(createErrorFromCode(TOPIC_ALREADY_EXISTS), context)).to.be.instanceOf(KafkaOperationError);
  });
});
