import { schemaCompatibilityIssues } from '@tributary/avro';
import { expect } from 'chai';

const record = (fields: object[], extra: object = {}) => JSON.stringify({ type: 'record', name: 'Shipment', namespace: 'compat', fields, ...extra });
const id = { name: 'shipmentId', type: 'string' };

describe('schemaCompatibilityIssues', () => {
  it('finds nothing for NONE, for an empty subject, and for a field added with a default', () => {
    const v1 = record([id]);
    const v2 = record([id, { name: 'carrier', type: 'string', default: 'post' }]);

    expect(schemaCompatibilityIssues('NONE', record([{ name: 'x', type: 'int' }]), [v1])).to.deep.equal([]);
    expect(schemaCompatibilityIssues('FULL_TRANSITIVE', v1, [])).to.deep.equal([]);
    expect(schemaCompatibilityIssues('FULL_TRANSITIVE', v2, [v1])).to.deep.equal([]);
  });

  it('names a new field without a default under BACKWARD, and a removed field without one under FORWARD', () => {
    const v1 = record([id, { name: 'weight', type: 'int' }]);
    const added = record([id, { name: 'weight', type: 'int' }, { name: 'customerId', type: 'string' }]);
    const removed = record([id]);

    expect(schemaCompatibilityIssues('BACKWARD', added, [v1]).map(({ path, rule }) => ({ path, rule }))).to.deep.equal([
      { path: 'fields.customerId', rule: 'READER_FIELD_MISSING_DEFAULT' },
    ]);
    expect(schemaCompatibilityIssues('BACKWARD', removed, [v1])).to.deep.equal([]);
    expect(schemaCompatibilityIssues('FORWARD', removed, [v1]).map(({ path, rule }) => ({ path, rule }))).to.deep.equal([
      { path: 'fields.weight', rule: 'READER_FIELD_MISSING_DEFAULT' },
    ]);
  });

  it('checks every earlier version only when transitive', () => {
    const v1 = record([id]);
    const v2 = record([id, { name: 'weight', type: 'int', default: 0 }]);
    const v3 = record([id, { name: 'weight', type: 'int' }]);

    expect(schemaCompatibilityIssues('BACKWARD', v3, [v1, v2])).to.deep.equal([]);
    const issues = schemaCompatibilityIssues('BACKWARD_TRANSITIVE', v3, [v1, v2]);
    expect(issues.map(({ path, rule }) => ({ path, rule }))).to.deep.equal([{ path: 'fields.weight', rule: 'READER_FIELD_MISSING_DEFAULT' }]);
    expect(issues[0]!.message).to.contain('existing schema 1 (of 2, oldest first)');
  });

  it('allows promotions and names type changes that are not, nested fields included', () => {
    const v1 = record([id, { name: 'count', type: 'int' }, { name: 'address', type: { type: 'record', name: 'Address', fields: [{ name: 'zip', type: 'string' }] } }]);
    const promoted = record([id, { name: 'count', type: 'long' }, { name: 'address', type: { type: 'record', name: 'Address', fields: [{ name: 'zip', type: 'string' }] } }]);
    const changed = record([id, { name: 'count', type: 'string' }, { name: 'address', type: { type: 'record', name: 'Address', fields: [{ name: 'zip', type: 'int' }] } }]);

    expect(schemaCompatibilityIssues('BACKWARD', promoted, [v1])).to.deep.equal([]);
    expect(schemaCompatibilityIssues('FORWARD', promoted, [v1]).map(({ path, rule }) => ({ path, rule }))).to.deep.equal([
      { path: 'fields.count', rule: 'TYPE_MISMATCH' },
    ]);
    expect(schemaCompatibilityIssues('BACKWARD', changed, [v1]).map(({ path, rule }) => ({ path, rule }))).to.deep.equal([
      { path: 'fields.count', rule: 'TYPE_MISMATCH' },
      { path: 'fields.address.fields.zip', rule: 'TYPE_MISMATCH' },
    ]);
  });

  it('names renamed records, dropped enum symbols and union branches', () => {
    const v1 = record([id, { name: 'mode', type: { type: 'enum', name: 'Mode', symbols: ['AIR', 'SEA'] } }, { name: 'note', type: ['null', 'string'] }]);
    const renamed = JSON.stringify({ type: 'record', name: 'Consignment', namespace: 'compat', fields: [id] });
    const aliased = JSON.stringify({ type: 'record', name: 'Consignment', namespace: 'compat', aliases: ['compat.Shipment'], fields: [id] });
    const narrowed = record([id, { name: 'mode', type: { type: 'enum', name: 'Mode', symbols: ['AIR'] } }, { name: 'note', type: 'string' }]);
    const withDefault = record([id, { name: 'mode', type: { type: 'enum', name: 'Mode', symbols: ['AIR'], default: 'AIR' } }, { name: 'note', type: ['null', 'string'] }]);

    expect(schemaCompatibilityIssues('BACKWARD', renamed, [v1]).map(({ rule }) => rule)).to.deep.equal(['NAME_MISMATCH']);
    expect(schemaCompatibilityIssues('BACKWARD', aliased, [v1])).to.deep.equal([]);
    expect(schemaCompatibilityIssues('BACKWARD', narrowed, [v1]).map(({ path, rule }) => ({ path, rule }))).to.deep.equal([
      { path: 'fields.mode', rule: 'MISSING_ENUM_SYMBOLS' },
      { path: 'fields.note', rule: 'TYPE_MISMATCH' },
    ]);
    expect(schemaCompatibilityIssues('BACKWARD', withDefault, [v1])).to.deep.equal([]);
  });
});
