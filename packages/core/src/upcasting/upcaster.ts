import { InvalidOptionError } from '../errors/configuration.errors';
import { EventData } from '../events/event-envelope';

/**
 * An event as data, between decoding and its class: the persisted type, the
 * schema version its payload has, and the payload. What upcasters read and return.
 */
export interface EventRecord {
  readonly type: string;
  readonly schemaVersion: number;
  readonly payload: EventData;
}

/**
 * Turns stored events of one type and version into what today's classes read,
 * where schema resolution cannot: a renamed type, a split into several events,
 * a merge into a common type, a dropped event, a change of meaning.
 *
 * It returns one record (another version, or another type), several (a split),
 * or none (a drop). Whatever it returns is upcast in turn until every event is
 * at the current version of its type, so chains v1 → v2 → v3 are written one
 * step at a time. An upcaster must be deterministic and free of side effects:
 * stored history is read again and again, and must read the same every time.
 * The record it is given is frozen; return new records.
 *
 * Create one with {@link defineUpcaster}.
 */
export interface Upcaster {
  /** The persisted event type it reads. */
  readonly type: string;
  /** The schema version it reads. Older versions reach it through schema resolution. */
  readonly fromVersion: number;
  upcast(event: EventRecord): EventRecord | readonly EventRecord[];
}

/**
 * An upcaster from one event type and version.
 *
 * @example
 * ```ts
 * // v2 renamed `customer` to `customerId`.
 * const renameCustomer = defineUpcaster('OrderCreated', 1, ({ payload }) => {
 *   const { customer, ...rest } = payload;
 *   return { type: 'OrderCreated', schemaVersion: 2, payload: { ...rest, customerId: customer } };
 * });
 * // OrderShipped was two facts; it is split into OrderPacked and OrderDispatched.
 * const splitShipped = defineUpcaster('OrderShipped', 1, ({ payload }) => [
 *   { type: 'OrderPacked', schemaVersion: 1, payload: {} },
 *   { type: 'OrderDispatched', schemaVersion: 1, payload: { carrier: payload.carrier } },
 * ]);
 * // Audit pings were never facts of the order.
 * const dropPing = defineUpcaster('OrderPinged', 1, () => []);
 * const bus = new CommandBus({ aggregates: [Order], upcasters: [renameCustomer, splitShipped, dropPing] });
 * ```
 */
export function defineUpcaster(
  type: string,
  fromVersion: number,
  upcast: (event: EventRecord) => EventRecord | readonly EventRecord[],
): Upcaster {
  const upcaster = { type, fromVersion, upcast };
  assertUpcaster(upcaster, 'defineUpcaster');
  return Object.freeze(upcaster);
}

/** Guard clauses for an upcaster, whether made by {@link defineUpcaster} or by hand. @internal */
export function assertUpcaster(upcaster: unknown, usedBy: string): asserts upcaster is Upcaster {
  if (upcaster === null || typeof upcaster !== 'object') {
    throw new InvalidOptionError(
      `${usedBy} was given ${String(upcaster)} as an upcaster; create upcasters with defineUpcaster(type, fromVersion, upcast)`,
    );
  }
  const { type, fromVersion, upcast } = upcaster as Partial<Upcaster>;
  if (typeof type !== 'string' || type.trim() === '') {
    throw new InvalidOptionError(
      `${usedBy}: an upcaster's type must be the persisted event type it reads, a non-empty string; got ${JSON.stringify(type)}`,
    );
  }
  if (typeof fromVersion !== 'number' || !Number.isInteger(fromVersion) || fromVersion < 1) {
    throw new InvalidOptionError(
      `${usedBy}: the upcaster of '${type}' needs fromVersion, the schema version it reads, a whole number from 1; got ${String(fromVersion)}`,
    );
  }
  if (typeof upcast !== 'function') {
    throw new InvalidOptionError(
      `${usedBy}: the upcaster of '${type}' v${fromVersion} needs upcast, a function from the event record to the record(s) that replace it`,
    );
  }
}

/**
 * Whether a value is an {@link EventRecord}: a non-empty `type`, a whole
 * `schemaVersion` from 1 and an object `payload`.
 */
export function isEventRecord(value: unknown): value is EventRecord {
  if (value === null || typeof value !== 'object') return false;
  const { type, schemaVersion, payload } = value as Partial<EventRecord>;
  return (
    typeof type === 'string' &&
    type !== '' &&
    typeof schemaVersion === 'number' &&
    Number.isInteger(schemaVersion) &&
    schemaVersion >= 1 &&
    payload !== null &&
    typeof payload === 'object' &&
    !Array.isArray(payload)
  );
}
