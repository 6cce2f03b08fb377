/**
 * Whatever a serializer accepts, it must read back: an event committed in a
 * form its own reader refuses would stop every replay at that offset.
 *
 * The strings that test this are JavaScript's own, UTF-16 with lone
 * surrogates: half a character, which UTF-8 cannot hold. JSON escapes them
 * (`\ud800`) and gets them back exactly. Avro writes strings as UTF-8, so the
 * AvroSerializer refuses them on write, naming the field; it does not replace
 * them with U+FFFD, which would make the stored event differ from the one the
 * command handler applied.
 */
import { AvroSchema, AvroSerializer, InMemorySchemaRegistry, LoneSurrogateError } from '@tributary/avro';
import { Event, EventData, JsonSerializer } from '@tributary/core';
import { expect } from 'chai';
import fc from 'fast-check';

@Event('AvroUnicodeTest.CustomerNoted', { version: 1 })
@AvroSchema({
  type: 'record',
  name: 'CustomerNoted',
  namespace: 'avrounicode',
  fields: [
    { name: 'customer', type: { type: 'record', name: 'Customer', fields: [{ name: 'name', type: 'string' }] } },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'attributes', type: { type: 'map', values: 'string' } },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'lines', type: { type: 'array', items: { type: 'record', name: 'Line', fields: [{ name: 'sku', type: 'string' }] } } },
    // JSON cannot tell a string from an enum symbol: a wrapped union, `{ "string": … }`.
    { name: 'label', type: ['string', { type: 'enum', name: 'Channel', symbols: ['WEB', 'STORE'] }] },
  ],
})
class CustomerNoted {}

const context = { topic: 'avrounicode.Customer.events', type: 'AvroUnicodeTest.CustomerNoted', schemaVersion: 1 };

/** One code point of the whole range, or, one time in four, a lone surrogate code unit (which fc's 'binary' never gives). */
const unit = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)) },
);
// Long ones too: avsc encodes strings over 64 bytes another way (Buffer's, which puts U+FFFD for a lone surrogate).
const anyString = fc.oneof({ weight: 4, arbitrary: fc.string({ unit, maxLength: 6 }) }, { weight: 1, arbitrary: fc.string({ unit, minLength: 30, maxLength: 40 }) });
// avsc would set the prototype for a "__proto__" map key; the reader refuses such keys (see avro-binary-check.ts).
const anyKey = anyString.filter((key) => key !== '__proto__');

const customerNoted = fc.record({
  customer: fc.record({ name: anyString }),
  tags: fc.array(anyString, { maxLength: 3 }),
  attributes: fc.dictionary(anyKey, anyString, { maxKeys: 3, noNullPrototype: true }),
  note: fc.option(anyString, { nil: null }),
  lines: fc.array(fc.record({ sku: anyString }), { maxLength: 3 }),
  label: fc.oneof(anyString.map((string) => ({ string })), fc.constant({ 'avrounicode.Channel': 'STORE' })),
});

/** Every string in a value, map and object keys included. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([key, entry]) => [key, ...stringsIn(entry)]);
  return [];
}

function withoutNegativeZero(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(withoutNegativeZero);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, withoutNegativeZero(entry)]));
  return value;
}

const isWellFormed = (text: string) => (text as string & { isWellFormed(): boolean }).isWellFormed();

describe('Strings through the serializers', () => {
  it('JsonSerializer: deserialize(serialize(x)) is x for any JSON data, lone surrogates in values and keys included', () => {
    const json = new JsonSerializer();
    // JSON has no -0 (it reads back as 0): not a matter of strings, so left out.
    const data = fc.dictionary(anyKey, fc.jsonValue({ stringUnit: unit, maxDepth: 3 }).map(withoutNegativeZero), { noNullPrototype: true });
    fc.assert(
      fc.property(data, (payload) => {
        expect(json.deserialize(json.serialize(payload as EventData), { ...context, partition: 0, offset: '0' })).to.deep.equal(payload);
      }),
      { numRuns: 500 },
    );
  });

  it('AvroSerializer: serialize refuses a lone surrogate with LoneSurrogateError, and reads back exactly whatever it accepts', async () => {
    const serializer = new AvroSerializer({ registry: new InMemorySchemaRegistry(), events: [CustomerNoted] });
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(customerNoted, async (payload) => {
        const wellFormed = stringsIn(payload).every(isWellFormed);
        const written = await Promise.resolve(serializer.serialize(payload, context)).then(
          (bytes) => ({ bytes }),
          (error: unknown) => ({ error }),
        );
        if ('error' in written) {
          expect(wellFormed, `refused a payload whose strings are all well-formed: ${String(written.error)}`).to.equal(false);
          expect(written.error).to.be.instanceOf(LoneSurrogateError);
          expect(written.error).to.include({ code: 'AVRO_LONE_SURROGATE', retriable: false });
          refused += 1;
          return;
        }
        expect(await serializer.deserialize(written.bytes, { ...context, partition: 0, offset: '0' })).to.deep.equal(payload);
        expect(wellFormed, 'wrote a payload with a lone surrogate').to.equal(true);
      }),
      { numRuns: 500 },
    );
    expect(refused, 'payloads with a lone surrogate among the runs').to.be.above(50);
  });

  describe('LoneSurrogateError names where the lone surrogate is', () => {
    const serializer = new AvroSerializer({ registry: new InMemorySchemaRegistry(), events: [CustomerNoted] });
    const valid = {
      customer: { name: 'Ada' },
      tags: ['a', 'b'],
      attributes: { colour: 'red' },
      note: null,
      lines: [{ sku: 's-1' }, { sku: 's-2' }],
      label: { string: 'vip' },
    };
    const refusal = async (payload: object): Promise<LoneSurrogateError> => {
      const error = await Promise.resolve(serializer.serialize(payload as EventData, context)).catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(LoneSurrogateError);
      return error as LoneSurrogateError;
    };

    const cases: Array<[string, object, { path: string; key?: string; index: number }]> = [
      ['a field of a nested record', { customer: { name: 'a\ud800b' } }, { path: 'customer.name', index: 1 }],
      ['an array item', { tags: ['ok', '\udc00'] }, { path: 'tags.1', index: 0 }],
      ['a map value', { attributes: { colour: 're\udbffd' } }, { path: 'attributes.colour', index: 2 }],
      ['a map key', { attributes: { ['co\ud800lour']: 'red' } }, { path: 'attributes', key: 'co\ud800lour', index: 2 }],
      ['a union of null and string', { note: 'x\ud800' }, { path: 'note', index: 1 }],
      ['a record in an array', { lines: [{ sku: 's-1' }, { sku: '\ud83d' }] }, { path: 'lines.1.sku', index: 0 }],
      ['a wrapped union branch', { label: { string: 'v\udc00ip' } }, { path: 'label.string', index: 1 }],
    ];
    for (const [where, change, expected] of cases) {
      it(`in ${where}`, async () => {
        const error = await refusal({ ...valid, ...change });

        expect({ path: error.path, key: error.key, index: error.index }).to.deep.equal({ key: undefined, ...expected });
        expect(error.message)
          .to.contain('AvroUnicodeTest.CustomerNoted')
          .and.contain(expected.path)
          .and.contain(`index ${expected.index}`)
          .and.contain('toWellFormed()');
        expect(isWellFormed(error.message), 'the message itself is well-formed').to.equal(true);
      });
    }

    it('at the index of the first lone surrogate, for any string', async () => {
      await fc.assert(
        fc.asyncProperty(anyString.filter((text) => !isWellFormed(text)), async (name) => {
          const error = await refusal({ ...valid, customer: { name } });

          expect(error.path).to.equal('customer.name');
          expect(isWellFormed(name.slice(0, error.index)), 'well-formed before the index').to.equal(true);
          expect(isWellFormed(name.slice(0, error.index + 1)), 'not well-formed up to the index').to.equal(false);
        }),
        { numRuns: 300 },
      );
    });

    it('accepts a surrogate pair, which is one well-formed character', async () => {
      const bytes = await serializer.serialize({ ...valid, customer: { name: 'Ada \ud83d\ude00' } }, context);
      expect((await serializer.deserialize(bytes, context)).customer).to.deep.equal({ name: 'Ada 😀' });
    });
  });
});
