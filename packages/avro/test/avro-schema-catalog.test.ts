import {
  AvroRecordNameConflictError,
  AvroRecordNameMismatchError,
  AvroSchema,
  AvroSchemaCatalog,
  InvalidAvroSchemaError,
  MissingAvroSchemaDecoratorError,
  getAvroMetadataStorage,
  subjectFor,
} from '@tributary/avro';
import { DuplicateEventTypeError, Event, UndeclaredEventError } from '@tributary/core';
import { expect } from 'chai';
import { PaymentReceived, PaymentReceivedV1 } from './support/avro-test-events';

const record = (name: string, fields: object[] = [{ name: 'id', type: 'string' }]) => ({ type: 'record' as const, name, namespace: 'catalogtest', fields: fields as never });

describe('AvroSchemaCatalog', () => {
  it('knows each declared type and version, its full name and its schema', () => {
    const catalog = new AvroSchemaCatalog([PaymentReceived, PaymentReceivedV1, PaymentReceived]);

    expect(catalog.versionsOf('AvroTest.PaymentReceived')).to.deep.equal([1, 2]);
    expect(catalog.currentVersion('AvroTest.PaymentReceived')).to.equal(2);
    expect(catalog.currentVersion('Unknown')).to.equal(undefined);
    expect(catalog.versionsOf('Unknown')).to.deep.equal([]);
    expect(catalog.fullNameOf('AvroTest.PaymentReceived')).to.equal('avrotest.PaymentReceived');
    expect(catalog.schemaFor('AvroTest.PaymentReceived', 2)!.isValid({ paymentId: 'p', amount: 1, currency: 'EUR' })).to.equal(true);
    expect(catalog.schemaFor('AvroTest.PaymentReceived', 3)).to.equal(undefined);
    expect(catalog.entries().map(({ type, version, fullName }) => `${type} v${version} ${fullName}`)).to.deep.equal([
      'AvroTest.PaymentReceived v1 avrotest.PaymentReceived',
      'AvroTest.PaymentReceived v2 avrotest.PaymentReceived',
    ]);
  });

  it('keeps @AvroSchema in one storage on globalThis, which the decorator only writes to', () => {
    expect(getAvroMetadataStorage()).to.equal((globalThis as Record<symbol, unknown>)[Symbol.for('@tributary/avro:metadata-storage')]);
    expect(getAvroMetadataStorage().findSchema(PaymentReceivedV1)?.schema).to.deep.include({ name: 'PaymentReceived' });
  });

  it('refuses classes without @Event or without @AvroSchema, naming them', () => {
    @AvroSchema(record('NotAnEvent'))
    class NotAnEvent {}
    @Event('CatalogTest.NoSchema', { version: 3 })
    class NoSchema {}

    expect(() => new AvroSchemaCatalog([NotAnEvent])).to.throw(UndeclaredEventError, 'NotAnEvent');
    expect(() => new AvroSchemaCatalog([NoSchema])).to.throw(MissingAvroSchemaDecoratorError, /NoSchema \(event CatalogTest\.NoSchema v3\)/);
  });

  it('refuses schemas that avsc cannot parse, that are not records, or that use bytes', () => {
    @Event('CatalogTest.Broken')
    @AvroSchema({ type: 'record', name: 'Broken', fields: [{ name: 'x', type: 'nope' }] } as never)
    class Broken {}
    @Event('CatalogTest.NotRecord')
    @AvroSchema('string')
    class NotRecord {}
    @Event('CatalogTest.WithBytes')
    @AvroSchema(record('WithBytes', [{ name: 'photo', type: ['null', 'bytes'] }]))
    class WithBytes {}

    expect(() => new AvroSchemaCatalog([Broken])).to.throw(InvalidAvroSchemaError, /Broken.*avsc cannot parse/);
    expect(() => new AvroSchemaCatalog([NotRecord])).to.throw(InvalidAvroSchemaError, /is a string, but an event payload must be an Avro record/);
    expect(() => new AvroSchemaCatalog([WithBytes])).to.throw(InvalidAvroSchemaError, /fields\.photo \(bytes\)/);
  });

  it('refuses versions of one type with different record names, and two types with one', () => {
    @Event('CatalogTest.Renamed', { version: 1 })
    @AvroSchema(record('Before'))
    class RenamedV1 {}
    @Event('CatalogTest.Renamed', { version: 2 })
    @AvroSchema(record('After'))
    class RenamedV2 {}
    @Event('CatalogTest.Other')
    @AvroSchema(record('Before'))
    class Other {}

    expect(() => new AvroSchemaCatalog([RenamedV1, RenamedV2])).to.throw(AvroRecordNameMismatchError, /catalogtest\.Before but v2 declares catalogtest\.After/);
    expect(() => new AvroSchemaCatalog([RenamedV1, Other])).to.throw(AvroRecordNameConflictError);
  });

  it('refuses two classes for one type and version', () => {
    @Event('CatalogTest.Twice')
    @AvroSchema(record('Twice'))
    class TwiceA {}
    @Event('CatalogTest.Twice')
    @AvroSchema(record('Twice'))
    class TwiceB {}

    expect(() => new AvroSchemaCatalog([TwiceA, TwiceB])).to.throw(DuplicateEventTypeError);
  });

  it('names subjects after TopicRecordNameStrategy', () => {
    expect(subjectFor('shop.Order.events', 'shop.OrderCreated')).to.equal('shop.Order.events-shop.OrderCreated');
  });
});
