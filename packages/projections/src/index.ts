/**
 * @tributary/projections: read models kept up to date from the events topics.
 *
 * - The DSL: `@Projection(name)` classes with `@On(EventClass)` handlers, or
 *   `defineProjection(name).on(EventClass, handler)`.
 * - {@link ProjectionRunner}: a worker in a consumer group whose writes and
 *   offsets commit together in the read-model store (exactly-once effect),
 *   with retries, a dead-letter topic and parked aggregates.
 * - {@link ProjectionRebuild}: a rebuild into a shadow version, swapped in atomically.
 * - {@link DeadLetters}: list, redrive and skip dead letters.
 * - {@link ProjectionMetrics} and {@link serveProjections}: Prometheus metrics and a health endpoint.
 *
 * Read-model stores implement `ReadModelStore` from `@tributary/core`: in memory
 * there, PostgreSQL in `@tributary/postgres`, Redis in `@tributary/redis`.
 */
export { Projection } from './decorators/projection.decorator';
export { On } from './decorators/on.decorator';
export { OnErased } from './decorators/on-erased.decorator';
export { ProjectionDefinition, defineProjection } from './projection-definition';
export type { ErasedAggregate, ErasureHandler, EventHandler } from './projection-handler';
export { ProjectionModel } from './projection-model';
export type { ProjectionSource } from './projection-model';
export { ProjectionRunner } from './projection-runner';
export type { ProjectionRunnerEvents, ProjectionRunnerOptions, ProjectionRunnerState } from './projection-runner';
export { EventStoreProjector } from './event-store-projector';
export type { EventStoreProjectorOptions } from './event-store-projector';
export { ProjectionRebuild } from './projection-rebuild';
export type { ProjectionRebuildEvents, ProjectionRebuildOptions, ProjectionRebuildResult } from './projection-rebuild';
export { DeadLetters } from './dead-letters';
export type { DeadLetterView, RedriveResult } from './dead-letters';
export { DLQ_HEADER, deadLetterTopicName } from './dead-letter-topic';
export type { DeadLetterReason, DeadLetterRecord } from './dead-letter-topic';
export { ProjectionMetrics } from './projection-metrics';
export {
  DeadLetterNotFoundError,
  InvalidProjectionHandlerError,
  InvalidProjectionNameError,
  NoProjectedEventsError,
  NotAProjectionError,
  ProjectionStoppedError,
  RedriveFailedError,
  RetriesSpentError,
  UnknownDeadLetterError,
} from './errors/projection.errors';
export { DEFAULT_PROJECTION_SERVER_PORT, serveProjections, type ProjectionHealth, type ProjectionServer, type ProjectionServerOptions, type ProjectionStatus } from './projection-server';
