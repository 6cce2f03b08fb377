/**
 * Event classes of the avro package's unit tests: a Payment event in two
 * versions (v2 adds a field with a default) and a Refund with a timestamp,
 * a union, an enum, an array and a map, so every supported Avro type is used.
 */
import { Event } from '@tributary/core';
import { AvroSchema } from '@tributary/avro';

@Event('AvroTest.PaymentReceived', { version: 1 })
@AvroSchema({
  type: 'record',
  name: 'PaymentReceived',
  namespace: 'avrotest',
  fields: [
    { name: 'paymentId', type: 'string' },
    { name: 'amount', type: 'long' },
  ],
})
export class PaymentReceivedV1 {
  constructor(
    readonly paymentId: string,
    readonly amount: number,
  ) {}
}

@Event('AvroTest.PaymentReceived', { version: 2 })
@AvroSchema({
  type: 'record',
  name: 'PaymentReceived',
  namespace: 'avrotest',
  fields: [
    { name: 'paymentId', type: 'string' },
    { name: 'amount', type: 'long' },
    // Payments before v2 were all in euros.
    { name: 'currency', type: 'string', default: 'EUR' },
  ],
})
export class PaymentReceived {
  constructor(
    readonly paymentId: string,
    readonly amount: number,
    readonly currency: string,
  ) {}
}

export const REFUND_SCHEMA = {
  type: 'record',
  name: 'RefundIssued',
  namespace: 'avrotest',
  fields: [
    { name: 'refundId', type: 'string' },
    { name: 'issuedAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'reason', type: ['null', 'string'], default: null },
    { name: 'channel', type: { type: 'enum', name: 'Channel', symbols: ['WEB', 'STORE', 'PHONE'] } },
    { name: 'lines', type: { type: 'array', items: { type: 'record', name: 'RefundLine', fields: [{ name: 'sku', type: 'string' }, { name: 'quantity', type: 'int' }] } } },
    { name: 'tags', type: { type: 'map', values: 'string' } },
    { name: 'rate', type: 'double' },
    { name: 'final', type: 'boolean' },
  ],
} as const;

@Event('AvroTest.RefundIssued', { version: 1 })
@AvroSchema(REFUND_SCHEMA as never)
export class RefundIssued {}

/** Every class above: what an app would give the AvroSerializer. */
export const ALL_TEST_EVENTS = [PaymentReceivedV1, PaymentReceived, RefundIssued];

export const refundPayload = {
  refundId: 'r-1',
  issuedAt: '2024-05-01T10:00:00.123Z',
  reason: 'damaged',
  channel: 'STORE',
  lines: [
    { sku: 'sku-1', quantity: 2 },
    { sku: 'sku-2', quantity: 1 },
  ],
  tags: { campaign: 'spring', 'with space': 'kept' },
  rate: 0.5,
  final: true,
};
