/**
 * A deploy that changes an event (v2, with an upcaster that derives a field)
 * must change what the processor decides on: state kept from before the deploy
 * has the old shape, so the processor rebuilds it from the events, through the
 * upcasters, before deciding anything.
 */
import { expect } from 'chai';
import { Aggregate, AggregateId, AggregateRoot, Apply, Command, CommandHandler, DomainError, Event, TargetAggregateId, defineUpcaster } from '@tributary/core';
import { CommandProcessor, KafkaCommandBus, ProcessorEvents } from '@tributary/kafka';
import { kafkaBrokers, uniqueName } from '../../../test-support/integration';

@Event('ShapeTest.Opened', { version: 1 })
class OpenedV1 {
  constructor(
    readonly accountId: string,
    readonly tier: string,
  ) {}
}

/** v2 records the overdraft a tier allows, which v1 left to the reader. */
@Event('ShapeTest.Opened', { version: 2 })
class OpenedV2 {
  constructor(
    readonly accountId: string,
    readonly tier: string,
    readonly overdraftLimit: number,
  ) {}
}

@Event('ShapeTest.Withdrawn')
class Withdrawn {
  constructor(readonly amount: number) {}
}

const overdraftOfTier = defineUpcaster('ShapeTest.Opened', 1, ({ payload }) => ({
  type: 'ShapeTest.Opened',
  schemaVersion: 2,
  payload: { ...payload, overdraftLimit: payload.tier === 'gold' ? 100 : 0 },
}));

@Command('ShapeTest.Open')
class Open {
  @TargetAggregateId() readonly accountId: string;
  constructor(
    accountId: string,
    readonly tier: string,
  ) {
    this.accountId = accountId;
  }
}

@Command('ShapeTest.Withdraw')
class Withdraw {
  @TargetAggregateId() readonly accountId: string;
  constructor(
    accountId: string,
    readonly amount: number,
  ) {
    this.accountId = accountId;
  }
}

class OverdrawnError extends DomainError {
  constructor(readonly accountId: string) {
    super(`Account ${accountId} cannot go that far below zero`, 'OVERDRAWN');
  }
}

/** The account as deployed first: no overdraft for anyone. */
@Aggregate('ShapeTest.Account')
class AccountV1 extends AggregateRoot {
  @AggregateId() id = '';
  tier = '';
  balance = 0;

  @CommandHandler(Open) static open(command: Open): AccountV1 {
    const account = new AccountV1();
    account.apply(new OpenedV1(command.accountId, command.tier));
    return account;
  }

  @CommandHandler(Withdraw) withdraw(command: Withdraw): void {
    if (this.balance - command.amount < 0) throw new OverdrawnError(this.id);
    this.apply(new Withdrawn(command.amount));
  }

  @Apply(OpenedV1) opened(event: OpenedV1): void {
    this.id = event.accountId;
    this.tier = event.tier;
  }

  @Apply(Withdrawn) withdrawn(event: Withdrawn): void {
    this.balance -= event.amount;
  }
}

/** The account after the deploy: the overdraft comes from the opening event. */
@Aggregate('ShapeTest.Account')
class AccountV2 extends AggregateRoot {
  @AggregateId() id = '';
  tier = '';
  balance = 0;
  overdraftLimit = 0;

  @CommandHandler(Open) static open(command: Open): AccountV2 {
    const account = new AccountV2();
    account.apply(new OpenedV2(command.accountId, command.tier, command.tier === 'gold' ? 100 : 0));
    return account;
  }

  @CommandHandler(Withdraw) withdraw(command: Withdraw): void {
    if (this.balance - command.amount < -this.overdraftLimit) throw new OverdrawnError(this.id);
    this.apply(new Withdrawn(command.amount));
  }

  @Apply(OpenedV2) opened(event: OpenedV2): void {
    this.id = event.accountId;
    this.tier = event.tier;
    this.overdraftLimit = event.overdraftLimit;
  }

  @Apply(Withdrawn) withdrawn(event: Withdrawn): void {
    this.balance -= event.amount;
  }
}

describe('Processors after a deploy that changes the shape of state', function () {
  this.timeout(180_000);

  it('decide on state rebuilt through the new upcasters, not on state kept from before', async () => {
    const app = uniqueName('shape');
    const connection = { app, brokers: kafkaBrokers(), partitions: 2 };

    const before = new CommandProcessor({ ...connection, aggregates: [AccountV1], stopOnSignals: false });
    await before.start();
    const busBefore = new KafkaCommandBus({ ...connection, aggregates: [AccountV1], domainErrors: [OverdrawnError] });
    await busBefore.start();
    await busBefore.execute(new Open('gold-1', 'gold'));
    await busBefore.execute(new Open('basic-1', 'basic'));
    expect(await busBefore.execute(new Withdraw('gold-1', 30)).catch((error: unknown) => error)).to.be.instanceOf(OverdrawnError);
    await busBefore.stop();
    await before.stop();

    const after = new CommandProcessor({ ...connection, aggregates: [AccountV2], events: [OpenedV1], upcasters: [overdraftOfTier], stopOnSignals: false });
    const assigned: Array<ProcessorEvents['processor.partition-assigned']> = [];
    after.on('processor.partition-assigned', (payload) => assigned.push(payload));
    await after.start();
    const bus = new KafkaCommandBus({ ...connection, aggregates: [AccountV2], domainErrors: [OverdrawnError] });
    await bus.start();
    try {
      // Decided on the upcast state: a gold account may now go 100 below zero, a basic one still may not.
      expect((await bus.execute(new Withdraw('gold-1', 50))).version).to.equal(2);
      expect(await bus.execute(new Withdraw('basic-1', 50)).catch((error: unknown) => error)).to.be.instanceOf(OverdrawnError);
      expect(await bus.load(AccountV2, 'gold-1')).to.include({ tier: 'gold', overdraftLimit: 100, balance: -50, version: 2 });
      expect(await bus.load(AccountV2, 'basic-1')).to.include({ tier: 'basic', overdraftLimit: 0, balance: 0, version: 1 });
      expect(assigned.reduce((sum, payload) => sum + payload.rebuilt, 0)).to.equal(2);
    } finally {
      await bus.stop();
      await after.stop();
    }

    // The rebuilt state was written back: the next owner has nothing to rebuild.
    const next = new CommandProcessor({ ...connection, aggregates: [AccountV2], events: [OpenedV1], upcasters: [overdraftOfTier], stopOnSignals: false });
    const reassigned: Array<ProcessorEvents['processor.partition-assigned']> = [];
    next.on('processor.partition-assigned', (payload) => reassigned.push(payload));
    await next.start();
    const lastBus = new KafkaCommandBus({ ...connection, aggregates: [AccountV2] });
    await lastBus.start();
    try {
      expect(await lastBus.load(AccountV2, 'gold-1')).to.include({ overdraftLimit: 100, balance: -50 });
      expect(await lastBus.load(AccountV2, 'basic-1')).to.include({ overdraftLimit: 0 });
      expect(reassigned.map((payload) => payload.rebuilt)).to.deep.equal(reassigned.map(() => 0));
    } finally {
      await lastBus.stop();
      await next.stop();
    }
  });
});
