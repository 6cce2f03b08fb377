/**
 * The golden corpus: one stored record of every historical version of the
 * Order's events (packages/avro/test/support/order-history.ts), in Avro and in
 * JSON, with what each must read as today, written out by hand. `generate.ts`
 * writes the bytes once into `order-history.golden.json`, which is committed and
 * never regenerated for a release: the test reads those bytes, so a change to
 * the serializers or upcasters that would read old events differently fails it.
 */
import { EventData } from '@tributary/core';

export interface CorpusEntry {
  /** What was written, as which type and version. */
  readonly type: string;
  readonly schemaVersion: number;
  readonly written: EventData;
  /** What it must read as today: current types and versions, in order. */
  readonly expected: ReadonlyArray<{ readonly type: string; readonly schemaVersion: number; readonly payload: EventData }>;
  /** Where JSON reads differently: it has no schema, so no defaults for fields added later. */
  readonly expectedJson?: CorpusEntry['expected'];
}

export const TOPIC = 'golden.Shop.Order.events';

export const CORPUS: readonly CorpusEntry[] = [
  {
    type: 'Shop.OrderCreated',
    schemaVersion: 1,
    written: { orderId: 'o-1', customer: 'ada' },
    expected: [{ type: 'Shop.OrderCreated', schemaVersion: 3, payload: { orderId: 'o-1', customerId: 'ada', channel: 'web' } }],
    expectedJson: [{ type: 'Shop.OrderCreated', schemaVersion: 3, payload: { orderId: 'o-1', customerId: 'ada' } }],
  },
  {
    type: 'Shop.OrderCreated',
    schemaVersion: 2,
    written: { orderId: 'o-2', customer: 'grace', channel: 'store' },
    expected: [{ type: 'Shop.OrderCreated', schemaVersion: 3, payload: { orderId: 'o-2', customerId: 'grace', channel: 'store' } }],
  },
  {
    type: 'Shop.OrderCreated',
    schemaVersion: 3,
    written: { orderId: 'o-3', customerId: 'alan', channel: 'phone' },
    expected: [{ type: 'Shop.OrderCreated', schemaVersion: 3, payload: { orderId: 'o-3', customerId: 'alan', channel: 'phone' } }],
  },
  {
    type: 'Shop.ItemAdded',
    schemaVersion: 1,
    written: { sku: 'tea', quantity: 2, priceCents: 350 },
    expected: [{ type: 'Shop.ItemAdded', schemaVersion: 1, payload: { sku: 'tea', quantity: 2, priceCents: 350 } }],
  },
  {
    type: 'Shop.OrderShipped',
    schemaVersion: 1,
    written: { carrier: 'DHL', trackingCode: 'T-1' },
    expected: [
      { type: 'Shop.OrderPacked', schemaVersion: 1, payload: { parcels: 1 } },
      { type: 'Shop.OrderDispatched', schemaVersion: 1, payload: { carrier: 'DHL', trackingCode: 'T-1' } },
    ],
  },
  {
    type: 'Shop.OrderPacked',
    schemaVersion: 1,
    written: { parcels: 3 },
    expected: [{ type: 'Shop.OrderPacked', schemaVersion: 1, payload: { parcels: 3 } }],
  },
  {
    type: 'Shop.OrderDispatched',
    schemaVersion: 1,
    written: { carrier: 'UPS', trackingCode: 'T-2' },
    expected: [{ type: 'Shop.OrderDispatched', schemaVersion: 1, payload: { carrier: 'UPS', trackingCode: 'T-2' } }],
  },
];

/** The committed file: the registry's schemas by id, and each entry's bytes. */
export interface GoldenFile {
  readonly topic: string;
  /** In registration order; registering them in this order into an empty registry gives these ids. */
  readonly schemas: ReadonlyArray<{ readonly id: number; readonly subject: string; readonly schema: string }>;
  readonly records: ReadonlyArray<{ readonly type: string; readonly schemaVersion: number; readonly avro: string; readonly json: string }>;
}
