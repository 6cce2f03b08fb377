import { EventEnvelope } from '@tributary/core';

/** An aggregate whose events were erased. */
export interface ErasedAggregate {
  readonly aggregateType: string;
  readonly aggregateId: string;
}

/** Handles one event: its current-version instance, its envelope, and the store's writer. */
export type EventHandler<E = object, W = unknown> = (event: E, envelope: EventEnvelope<E>, writer: W) => unknown;

/** Handles one erasure tombstone; runs once per tombstone, so it must be idempotent. */
export type ErasureHandler<W = unknown> = (erased: ErasedAggregate, writer: W) => unknown;
