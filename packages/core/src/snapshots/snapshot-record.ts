import { EventData } from '../events/event-envelope';
import { InvalidOptionError } from '../errors/configuration.errors';
import { TributaryError } from '../errors/tributary.error';
import { Snapshot } from './snapshot';

/**
 * A stored snapshot that cannot be read back: unparsable JSON, or a record of
 * the wrong shape. Stores never return such a snapshot; they report this error
 * to their `onCorrupt` callback and load undefined, so the aggregate is loaded
 * from its events and the next snapshot saved replaces the broken one.
 */
export class CorruptSnapshotError extends TributaryError {
  static readonly code = 'CORRUPT_SNAPSHOT';
  constructor(
    readonly aggregateType: string,
    readonly aggregateId: string,
    readonly reason: string,
    where: string,
    cause?: unknown,
  ) {
    super(
      `The snapshot of ${aggregateType} '${aggregateId}' in ${where} cannot be read (${reason}); it is ignored, ` +
        `the aggregate loads from its events, and the next snapshot saved replaces it`,
      { code: CorruptSnapshotError.code, cause },
    );
  }
}

/** Called with each corrupt snapshot a store meets; see {@link CorruptSnapshotError}. */
export type CorruptSnapshotCallback = (error: CorruptSnapshotError, aggregateType: string, aggregateId: string) => void;

/** The default {@link CorruptSnapshotCallback}: one warning line. */
export const warnOfCorruptSnapshot: CorruptSnapshotCallback = (error) => console.warn(`[tributary] ${error.message}`);

/** A stored snapshot's fields as read from the backing service, checked by {@link snapshotFromRecord}. */
export interface SnapshotRecord {
  readonly aggregateType?: unknown;
  readonly aggregateId?: unknown;
  readonly version?: unknown;
  readonly position?: unknown;
  readonly state?: unknown;
  readonly shapeVersion?: unknown;
  /** A Date, or its ISO text. */
  readonly occurredAt?: unknown;
}

/**
 * The snapshot a stored record holds, checked field by field, so a damaged
 * record can never pass for a state.
 * @throws {@link CorruptSnapshotError} naming the first field that is wrong.
 */
export function snapshotFromRecord(record: unknown, aggregateType: string, aggregateId: string, where: string): Snapshot {
  const corrupt = (reason: string): CorruptSnapshotError => new CorruptSnapshotError(aggregateType, aggregateId, reason, where);
  if (!isPlainObject(record)) throw corrupt(`the record is ${describe(record)}, not an object`);
  const fields = record as SnapshotRecord;
  if (fields.aggregateType !== undefined && fields.aggregateType !== aggregateType) throw corrupt(`it names aggregate type ${JSON.stringify(fields.aggregateType)}`);
  if (fields.aggregateId !== undefined && fields.aggregateId !== aggregateId) throw corrupt(`it names aggregate id ${JSON.stringify(fields.aggregateId)}`);
  const { version, position, state, shapeVersion, occurredAt } = fields;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) throw corrupt(`its version is ${describe(version)}`);
  if (position !== undefined && position !== null && typeof position !== 'string') throw corrupt(`its position is ${describe(position)}`);
  if (!isPlainObject(state)) throw corrupt(`its state is ${describe(state)}, not an object`);
  if (typeof shapeVersion !== 'string' || shapeVersion.length === 0) throw corrupt(`its shapeVersion is ${describe(shapeVersion)}`);
  const when = occurredAt instanceof Date ? new Date(occurredAt.getTime()) : typeof occurredAt === 'string' ? new Date(occurredAt) : undefined;
  if (when === undefined || Number.isNaN(when.getTime())) throw corrupt(`its occurredAt is ${describe(occurredAt)}`);
  return {
    aggregateType,
    aggregateId,
    version,
    ...(typeof position === 'string' ? { position } : {}),
    state: state as EventData,
    shapeVersion,
    occurredAt: when,
  };
}

/**
 * The JSON text a snapshot is stored as. `version` comes first, so a store can
 * read it from the start of the text without decoding the state (the Redis
 * store's save script does). Kept identical in postgres, redis and kafka.
 */
export function snapshotToJson(snapshot: Snapshot): string {
  return JSON.stringify({
    version: snapshot.version,
    aggregateType: snapshot.aggregateType,
    aggregateId: snapshot.aggregateId,
    ...(snapshot.position === undefined ? {} : { position: snapshot.position }),
    shapeVersion: snapshot.shapeVersion,
    occurredAt: snapshot.occurredAt.toISOString(),
    state: snapshot.state,
  });
}

/** The snapshot stored as `text`; see {@link snapshotFromRecord}. */
export function snapshotFromJson(text: string, aggregateType: string, aggregateId: string, where: string): Snapshot {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (error) {
    throw new CorruptSnapshotError(aggregateType, aggregateId, `it is not JSON: ${(error as Error).message}`, where, error);
  }
  return snapshotFromRecord(record, aggregateType, aggregateId, where);
}

/** Checks a snapshot before it is saved, so a store never writes one it could not read back. */
export function checkSnapshotToSave(snapshot: Snapshot, store: string): void {
  const problem = (reason: string): Error => new InvalidOptionError(`${store}.save got a snapshot ${reason}`);
  if (!snapshot || typeof snapshot !== 'object') throw problem(`that is ${describe(snapshot)}`);
  if (typeof snapshot.aggregateType !== 'string' || snapshot.aggregateType.length === 0) throw problem(`whose aggregateType is ${describe(snapshot.aggregateType)}`);
  if (typeof snapshot.aggregateId !== 'string') throw problem(`whose aggregateId is ${describe(snapshot.aggregateId)}`);
  if (!Number.isSafeInteger(snapshot.version) || snapshot.version < 0) throw problem(`whose version is ${describe(snapshot.version)}; it must be a whole number of 0 or more`);
  if (!isPlainObject(snapshot.state)) throw problem(`whose state is ${describe(snapshot.state)}, not an object`);
  if (typeof snapshot.shapeVersion !== 'string' || snapshot.shapeVersion.length === 0) throw problem(`whose shapeVersion is ${describe(snapshot.shapeVersion)}`);
  if (snapshot.position !== undefined && typeof snapshot.position !== 'string') throw problem(`whose position is ${describe(snapshot.position)}; it must be a string or undefined`);
  if (!(snapshot.occurredAt instanceof Date) || Number.isNaN(snapshot.occurredAt.getTime())) throw problem('whose occurredAt is not a valid Date');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
