/**
 * A command whose second event cannot be written must write none of its
 * events: otherwise the first commits alone, with a sequence number the next
 * command then takes again, and compaction keeps only one of the two records
 * that share the key.
 */
import { expect } from 'chai';
import { Serializer } from '@tributary/core';
import { AvroSerializer, ConfluentSchemaRegistry } from '@tributary/avro';
import { CommandProcessor, HEADER, KafkaCommandBus, readHeader } from '@tributary/kafka';
import { kafkaBrokers, startOwnSchemaRegistry, uniqueName } from '../../../test-support/integration';
import { eventsOf } from './support/aggregate-records';
import { BonusRefusingSerializer, Credit, CreditWithBonus, OpenWallet, WALLET_EVENTS, Wallet } from './support/wallet';

describe('A command that fails half-way writes nothing', function () {
  this.timeout(180_000);
  const partitions = 2;

  async function run(serializer: Serializer, app: string, middle: () => Promise<void>) {
    const options = { app, brokers: kafkaBrokers(), partitions, aggregates: [Wallet] };
    const processor = new CommandProcessor({ ...options, serializer, stopOnSignals: false });
    await processor.start();
    const bus = new KafkaCommandBus(options);
    await bus.start();
    try {
      const wallet = 'w-1';
      await bus.execute(new OpenWallet(wallet));
      await bus.execute(new Credit(wallet, 10));
      await middle();
      // Sent together, so they are likely decided in one transaction; the middle one fails on its second event.
      const [before, failed, after] = await Promise.allSettled([
        bus.execute(new Credit(wallet, 1), { commandId: 'before' }),
        bus.execute(new CreditWithBonus(wallet, 100), { commandId: 'half-way' }),
        bus.execute(new Credit(wallet, 2), { commandId: 'after' }),
      ]);
      expect(before.status).to.equal('fulfilled');
      expect(after.status).to.equal('fulfilled');
      expect(failed.status).to.equal('rejected');
      const last = await bus.execute(new Credit(wallet, 4));
      // Open, 10, 1, 2, 4: the failed command took no sequence number.
      expect(last.version).to.equal(5);
      const loaded = await bus.load(Wallet, wallet);
      expect(loaded).to.include({ balance: 17, bonuses: 0, version: 5 });

      const records = await eventsOf(processor.layout.events('Wallet'), partitions, wallet);
      const keys = records.map((record) => record.key!.toString());
      expect(new Set(keys).size, `keys ${keys.join(', ')}`).to.equal(keys.length);
      expect(records.map((record) => Number(readHeader(record.headers, HEADER.sequence)))).to.deep.equal([1, 2, 3, 4, 5]);
      expect(keys).to.deep.equal([1, 2, 3, 4, 5].map((sequence) => `${wallet}:${sequence}`));
      expect(records.map((record) => readHeader(record.headers, HEADER.causationId))).to.not.include('half-way');
      expect(records.map((record) => readHeader(record.headers, HEADER.type))).to.not.include('WalletTest.BonusGranted');
      return { failure: (failed as PromiseRejectedResult).reason as Error & { code?: string; retriable?: boolean } };
    } finally {
      await bus.stop();
      await processor.stop();
    }
  }

  it('when the serializer throws on the second event of a command', async () => {
    const { failure } = await run(new BonusRefusingSerializer(), uniqueName('partial-json'), async () => undefined);
    expect(failure.message).to.include('cannot write WalletTest.BonusGranted');
  });

  it('when the schema registry stops in the middle of a batch', async () => {
    const registry = await startOwnSchemaRegistry();
    try {
      const serializer = new AvroSerializer({ registry: new ConfluentSchemaRegistry({ url: registry.url }), events: WALLET_EVENTS });
      // The registry goes after the first events' schemas are registered; the bonus's never was.
      const { failure } = await run(serializer, uniqueName('partial-avro'), () => registry.stop());
      expect(failure.retriable, `${failure.name} [${failure.code}] ${failure.message}`).to.equal(true);
    } finally {
      await registry.stop();
    }
  });
});
