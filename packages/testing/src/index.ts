/**
 * @tributary/testing: given/when/then fixtures for aggregates, usable in
 * example-based and property-based tests.
 */
export { AggregateTestFixture, ScenarioAlreadyCreatedError, ScenarioNotCreatedError } from './aggregate-test-fixture';
export type { AggregateTestFixtureOptions, ScenarioResult, ScenarioStep } from './aggregate-test-fixture';
export { ResultValidator } from './result-validator';
export type { CommandOutcome } from './result-validator';
export { FixtureAssertionError } from './fixture-assertion.error';
export { eventStoreContract } from './event-store-contract';
export type { EventStoreContractOptions } from './event-store-contract';
export { snapshotRehydrationContract } from './snapshot-rehydration-contract';
export type { SnapshotRehydrationContractOptions } from './snapshot-rehydration-contract';
export { snapshotStoreContract } from './snapshot-store-contract';
export type { SnapshotStoreContractOptions } from './snapshot-store-contract';
export { readModelStoreContract } from './read-model-store-contract';
export type { ReadModelStoreContractAdapter, ReadModelStoreContractOptions } from './read-model-store-contract';
