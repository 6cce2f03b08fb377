import { expect } from 'chai';
import { InvalidOptionError } from '@tributary/core';
import { TopicLayout } from '../src/topic-layout';

describe('TopicLayout', () => {
  it('names topics after the prefix, which defaults to the app', () => {
    const layout = new TopicLayout({ app: 'shop', partitions: 6 });
    expect(layout.commands).to.equal('shop.commands');
    expect(layout.replies).to.equal('shop.replies');
    expect(layout.checkpoints).to.equal('shop.checkpoints');
    expect(layout.events('Order')).to.equal('shop.Order.events');
    expect(layout.snapshots('Order')).to.equal('shop.Order.snapshots');
    expect(layout.replicationFactor).to.equal(-1);
  });

  it('uses a given prefix for topics, the group and the transactional ids, so two prefixes of one app never fence each other', () => {
    const layout = new TopicLayout({ app: 'shop', prefix: 'prod.shop', partitions: 3 });
    expect(layout.commands).to.equal('prod.shop.commands');
    expect(layout.events('Order')).to.equal('prod.shop.Order.events');
    expect(layout.commandGroupId).to.equal('prod.shop-cmd');
    expect(layout.transactionalId(0)).to.equal('prod.shop-cmd-0');
    expect(layout.transactionalId(2)).to.equal('prod.shop-cmd-2');
    const staging = new TopicLayout({ app: 'shop', prefix: 'staging.shop', partitions: 3 });
    expect(staging.transactionalId(0)).to.not.equal(layout.transactionalId(0));
    expect(staging.commandGroupId).to.not.equal(layout.commandGroupId);
  });

  it('refuses a transactional id for a partition the app does not have', () => {
    const layout = new TopicLayout({ app: 'shop', partitions: 3 });
    for (const partition of [-1, 3, 1.5]) {
      expect(() => layout.transactionalId(partition)).to.throw(InvalidOptionError, /0 to 2/);
    }
  });

  it('lists every topic with what it must look like, in a fixed order', () => {
    const layout = new TopicLayout({ app: 'shop', partitions: 4 });
    const specs = layout.topicsFor(['Order', 'Customer', 'Order']);
    expect(specs.map((spec) => [spec.name, spec.kind, spec.mustKeepHistory])).to.deep.equal([
      ['shop.commands', 'commands', false],
      ['shop.replies', 'replies', false],
      ['shop.checkpoints', 'checkpoints', true],
      ['shop.Order.events', 'events', true],
      ['shop.Order.snapshots', 'snapshots', true],
      ['shop.Customer.events', 'events', true],
      ['shop.Customer.snapshots', 'snapshots', true],
    ]);
    expect(specs.every((spec) => spec.partitions === 4)).to.equal(true);
    for (const spec of specs.filter((s) => s.mustKeepHistory)) {
      expect(spec.config, spec.name).to.deep.equal({ 'cleanup.policy': 'compact' });
    }
    expect(specs.find((s) => s.kind === 'commands')!.config).to.deep.equal({ 'cleanup.policy': 'delete' });
    expect(specs.find((s) => s.kind === 'replies')!.config).to.deep.equal({ 'cleanup.policy': 'delete', 'retention.ms': '3600000' });
  });

  it('rejects bad options with messages that say what to do', () => {
    const cases: Array<[unknown, RegExp]> = [
      [undefined, /needs options/],
      [{ partitions: 3 }, /app must be a non-empty string/],
      [{ app: '', partitions: 3 }, /app must be a non-empty string/],
      [{ app: 'my shop', partitions: 3 }, /"my shop" cannot be part of a Kafka topic name; use only letters, digits/],
      [{ app: 'shop/eu', partitions: 3 }, /cannot be part of a Kafka topic name/],
      [{ app: 'shop', prefix: '', partitions: 3 }, /prefix "" cannot start a Kafka topic name/],
      [{ app: 'shop', partitions: 0 }, /partitions must be a whole number of at least 1, got 0/],
      [{ app: 'shop', partitions: 2.5 }, /partitions must be a whole number/],
      [{ app: 'shop', partitions: '3' }, /partitions must be a whole number/],
      [{ app: 'shop', partitions: 3, replicationFactor: 0 }, /replicationFactor .* -1 for the broker's default/],
      [{ app: 'x'.repeat(240), partitions: 3 }, /over Kafka's 249; shorten the option prefix/],
    ];
    for (const [options, message] of cases) {
      expect(() => new TopicLayout(options as never), JSON.stringify(options)).to.throw(InvalidOptionError, message);
    }
  });

  it('rejects an aggregate type that cannot name a topic, saying which', () => {
    const layout = new TopicLayout({ app: 'shop', partitions: 3 });
    expect(() => layout.events('Order Line')).to.throw(InvalidOptionError, /Aggregate type "Order Line" cannot be part of a Kafka topic name/);
    expect(() => layout.snapshots('')).to.throw(InvalidOptionError, /Aggregate type ""/);
    expect(() => layout.topicsFor(['Order', 'Ä'])).to.throw(InvalidOptionError, /"Ä"/);
    expect(() => layout.events('A'.repeat(240))).to.throw(InvalidOptionError, /shorten the aggregate type/);
  });
});
