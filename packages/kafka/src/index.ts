/**
 * @tributary/kafka: Tributary's event store on Apache Kafka.
 *
 * Command processors own partitions of the commands topic and are the single
 * writers of the same partitions of the events, snapshots and checkpoints topics;
 * each batch of commands commits in one Kafka transaction. Any process sends
 * commands through a {@link KafkaCommandBus}.
 */
export { CommandProcessor } from './command-processor';
export type { CommandProcessorOptions } from './processor-options';
export type { ProcessorRequest } from './request-handlers';
export { KafkaCommandBus } from './kafka-command-bus';
export { KafkaEventStore } from './kafka-event-store';
export type { KafkaEventStoreOptions } from './kafka-event-store';
export { KafkaSnapshotStore } from './kafka-snapshot-store';
export type { KafkaSnapshotStoreOptions } from './kafka-snapshot-store';
export type { KafkaCommandBusOptions, KafkaExecuteOptions } from './kafka-command-bus';
export type { KafkaConnectionOptions } from './kafka-options';
export { CommandFailedError } from './command-reply';
export type { CommandReply, ReplyError, ReplyEvent } from './command-reply';
export { InMemoryPartitionStateStore } from './partition-state-store';
export type { AggregateSnapshot, DecidedCommand, PartitionStateStore } from './partition-state-store';
export { FileSystemPartitionStateStore } from './file-system-state-store';
export type { FileSystemPartitionStateStoreOptions } from './file-system-state-store';
export type { ProcessorEventName, ProcessorEvents, ReplayEventName, ReplayEvents } from './instrumentation';
export { Instrumentation } from './instrumentation';
export { BulkReplay } from './bulk-replay';
export type { BulkReplayOptions, BulkReplayResult, ReplayedAggregates, TopicPartitionOffsets } from './bulk-replay';
export { TopicLayout } from './topic-layout';
export type { TopicKind, TopicLayoutOptions, TopicSpec } from './topic-layout';
export { DEFAULT_STARTUP_TIMEOUT_MS, connectAdmin, provisionTopics, startupClientConfig, waitForPartitionLeaders } from './topic-provisioner';
export type { ProvisionTopicsOptions } from './topic-provisioner';
export { toTributaryError } from './broker-error-map';
export type { BrokerErrorContext } from './broker-error-map';
export { murmur2, partitionForKey, toPositive } from './murmur2';
export { HEADER, envelopeFromHeaders, envelopeHeaders, readHeader } from './record-headers';
export { readPartition } from './partition-reader';
export type { PartitionReadOptions } from './partition-reader';
export { fetchTopicOffsets } from './topic-offsets';
export { resolveConnectionOptions } from './kafka-options';
export { GROUP_TIMING_DEFAULTS } from './group-timing';
export { DEFAULT_STOP_SIGNALS, stopOnSignals } from './stop-on-signals';
export type { ResolvedConnectionOptions } from './kafka-options';
export { exactlyPartition } from './partition-restorer';
export {
  BrokerUnreachableError,
  KafkaOperationError,
  PartitionCountMismatchError,
  ProducerFencedError,
  TopicMissingError,
  TopicWouldLoseHistoryError,
} from './errors/kafka.errors';
export type { TopicRetentionConfig } from './errors/kafka.errors';
export {
  AggregateRebuildError,
  CommandTimeoutError,
  CommandTooLargeError,
  GroupJoinTimeoutError,
  MalformedRequestError,
  ReadTimeoutError,
  RestoreTimeoutError,
} from './errors/processor.errors';
export { UnreadableEventRecordError } from './errors/replay.errors';
