/**
 * @tributary/core: the aggregate DSL, event envelopes, the EventStore seam,
 * the command bus and the embedded in-memory event store.
 *
 * It loads `reflect-metadata` itself, so decorated classes need no further set-up.
 */
import 'reflect-metadata';
export { Aggregate } from './decorators/aggregate.decorator';
export { AggregateId } from './decorators/aggregate-id.decorator';
export { Apply } from './decorators/apply.decorator';
export { CommandHandler } from './decorators/command-handler.decorator';
export { Command } from './decorators/command.decorator';
export { Event } from './decorators/event.decorator';
export { TargetAggregateId } from './decorators/target-aggregate-id.decorator';

export { AggregateRoot } from './aggregate/aggregate-root';
export { AggregateModel } from './aggregate/aggregate-model';
export { exploreAggregate } from './aggregate/aggregate-explorer';
export { DomainModel } from './aggregate/domain-model';
export type { CommandRoute } from './aggregate/domain-model';
export type { EventOptions } from './decorators/event.decorator';
export type { AggregateOptions } from './decorators/aggregate.decorator';
export type { CommandHandlerBinding, ReplayedEvent } from './aggregate/aggregate-model';
export type { MessageContext } from './commands/aggregate-repository';
export type { CommandBusOptions, CommandResult, ExecuteOptions } from './commands/command-bus';
export type { RetryPolicy } from './commands/retry-policy';
export type { CommandOutcome } from './commands/command-outcome';
export type { AnyClass, CommandMetadata, Constructor, EventMetadata } from './metadata/metadata-storage';
export type { TributaryErrorOptions } from './errors/tributary.error';

export type { EventData, EventEnvelope, NewEvent, StoredEvent } from './events/event-envelope';
export { EventRegistry } from './events/event-registry';
export { CommandRegistry } from './commands/command-registry';
export { JsonSerializer, MalformedPayloadError } from './serialization/json-serializer';
export type { SerializationContext, Serializer, SerializerUsage } from './serialization/serializer';
export { describeRecord } from './serialization/serializer';

export type { EventRecord, Upcaster } from './upcasting/upcaster';
export { defineUpcaster, isEventRecord } from './upcasting/upcaster';
export { MAX_UPCAST_STEPS, UpcasterChain } from './upcasting/upcaster-chain';
export type { EventPipelineOptions, RecordOrigin } from './upcasting/event-pipeline';
export { EventPipeline } from './upcasting/event-pipeline';

export type { EventStore, ReadAllOptions, ReadStreamOptions, StreamId } from './store/event-store';
export { InMemoryEventStore } from './store/in-memory-event-store';

export type { Snapshot } from './snapshots/snapshot';
export type { SnapshotQuery, SnapshotStore } from './snapshots/snapshot-store';
export { InMemorySnapshotStore } from './snapshots/in-memory-snapshot-store';
export {
  CorruptSnapshotError,
  checkSnapshotToSave,
  snapshotFromJson,
  snapshotFromRecord,
  snapshotToJson,
  warnOfCorruptSnapshot,
} from './snapshots/snapshot-record';
export type { CorruptSnapshotCallback, SnapshotRecord } from './snapshots/snapshot-record';
export { Rehydrator } from './snapshots/rehydrator';
export type { LoadOptions, RehydratorOptions, RehydratorWarning } from './snapshots/rehydrator';
export { SnapshotPolicies } from './snapshots/snapshot-policy';
export type { SnapshotDecision, SnapshotPolicy } from './snapshots/snapshot-policy';
export { shapeVersionOf } from './snapshots/shape-version';

export type {
  BatchCommit,
  BatchContext,
  CommitOutcome,
  DeadLetterEntry,
  PartitionOffset,
  ReadModelSlot,
  ReadModelStore,
} from './projections/read-model-store';
export { compareDeadLetters, liveSlot, shadowSlot, slotKey } from './projections/read-model-store';
export { InMemoryReadModelStore } from './projections/in-memory-read-model-store';
export type { InMemoryWriter } from './projections/in-memory-read-model-store';
export { ReadModelStoreUnavailableError, ShadowBehindError } from './errors/projection.errors';

export { AggregateRepository } from './commands/aggregate-repository';
export { CommandBus } from './commands/command-bus';
export { DEFAULT_RETRY_POLICY, retryDelayMs, retryPolicy, withRetry } from './commands/retry-policy';
export { DEFAULT_DECIDED_COMMANDS_PER_AGGREGATE, commandFingerprint, decidedCommandsLimit, failureDecides, findDecision, rememberDecision } from './commands/command-outcome';

export { MetadataStorage, getMetadataStorage } from './metadata/metadata-storage';

export { ConcurrencyError, ConfigurationError, DomainError, TributaryError } from './errors/tributary.error';
export {
  DuplicateAggregateTypeError,
  DuplicateApplierError,
  DuplicateCommandHandlerError,
  DuplicateCommandTypeError,
  DuplicateEventTypeError,
  InvalidDecoratorError,
  InvalidOptionError,
  MissingAggregateIdError,
  MissingApplierError,
  MissingCommandHandlerError,
  MissingTargetAggregateIdError,
  NotAnAggregateError,
  UndeclaredCommandError,
  UndeclaredEventError,
} from './errors/configuration.errors';
export { WrongExpectedVersionError } from './errors/concurrency.errors';
export { CommandIdConflictError } from './errors/command-id-conflict.error';
export {
  AggregateAlreadyExistsError,
  AggregateNotFoundError,
  EventSequenceError,
  InvalidHandlerResultError,
  MissingAggregateIdValueError,
  MissingTargetIdValueError,
  UnknownCommandTypeError,
  UnknownEventTypeError,
} from './errors/aggregate.errors';
export { RetriesExhaustedError } from './errors/retries-exhausted.error';
export type { DeclaredVersions } from './errors/upcasting.errors';
export {
  DuplicateUpcasterError,
  InvalidUpcastResultError,
  MisplacedUpcasterError,
  StaleEventClassError,
  UnappliedEventError,
  UpcastFailedError,
  UpcasterGapError,
  UpcasterLoopError,
} from './errors/upcasting.errors';
