import { expect } from 'chai';
import {
  Aggregate,
  AggregateId,
  AggregateRoot,
  Apply,
  CommandHandler,
  DuplicateUpcasterError,
  Event,
  InvalidOptionError,
  TargetAggregateId,
  UndeclaredEventError,
  UpcasterGapError,
  defineUpcaster,
} from '@tributary/core';
import { AggregateTestFixture } from '@tributary/testing';

// A lamp whose history changed: `Installed` was renamed `Registered`, and
// `Dimmed` v1 (a fraction) became v2 (a percentage).

@Event('FixtureUpcastTest.Installed')
class Installed {
  constructor(
    readonly lampId: string,
    readonly room: string,
  ) {}
}

@Event('FixtureUpcastTest.Registered')
class Registered {
  constructor(
    readonly lampId: string,
    readonly room: string,
  ) {}
}

@Event('FixtureUpcastTest.Dimmed', { version: 1 })
class DimmedV1 {
  constructor(readonly fraction: number) {}
}

@Event('FixtureUpcastTest.Dimmed', { version: 2 })
class Dimmed {
  constructor(readonly percent: number) {}
}

class Dim {
  @TargetAggregateId() readonly lampId: string;
  constructor(
    lampId: string,
    readonly percent: number,
  ) {
    this.lampId = lampId;
  }
}

@Aggregate('FixtureUpcastTest.Lamp')
class Lamp extends AggregateRoot {
  @AggregateId() id = '';
  room = '';
  percent = 100;

  @CommandHandler(Dim) dim(command: Dim): void {
    if (command.percent !== this.percent) this.apply(new Dimmed(command.percent));
  }
  @Apply(Registered) registered(event: Registered): void {
    this.id = event.lampId;
    this.room = event.room;
  }
  @Apply(Dimmed) dimmed(event: Dimmed): void {
    this.percent = event.percent;
  }
}

const renameInstalled = defineUpcaster('FixtureUpcastTest.Installed', 1, ({ payload }) => ({
  type: 'FixtureUpcastTest.Registered',
  schemaVersion: 1,
  payload,
}));
const fractionToPercent = defineUpcaster('FixtureUpcastTest.Dimmed', 1, ({ payload }) => ({
  type: 'FixtureUpcastTest.Dimmed',
  schemaVersion: 2,
  payload: { percent: Math.round(Number(payload.fraction) * 100) },
}));

describe('AggregateTestFixture with upcasters', () => {
  // A generator: the fixture must keep the upcasters for every scenario, not read them once.
  function* upcasters() {
    yield renameInstalled;
    yield fractionToPercent;
  }
  const fixture = new AggregateTestFixture(Lamp, { upcasters: upcasters() });

  it('takes a past of legacy class instances, read back through the upcasters', async () => {
    await fixture
      .given(new Installed('l-1', 'hall'), new DimmedV1(0.4))
      .when(new Dim('l-1', 40))
      .expectNoEvents();
    await fixture
      .given(new Installed('l-1', 'hall'), new DimmedV1(0.4))
      .when(new Dim('l-1', 70))
      .expectEvents(new Dimmed(70))
      .then((result) => result.expectState((lamp) => lamp.room === 'hall' && lamp.version === 3));
  });

  it('takes a past of event records, as older code stored them', async () => {
    await fixture
      .given(
        { type: 'FixtureUpcastTest.Installed', schemaVersion: 1, payload: { lampId: 'l-2', room: 'attic' } },
        { type: 'FixtureUpcastTest.Dimmed', schemaVersion: 1, payload: { fraction: 0.25 } },
      )
      .when(new Dim('l-2', 25))
      .expectNoEvents();
  });

  it('fails the scenario, naming the event, when the past has no path', async () => {
    const error = await fixture
      .given(new Registered('l-3', 'den'), { type: 'FixtureUpcastTest.Dimmed', schemaVersion: 3, payload: {} })
      .when(new Dim('l-3', 10))
      .expectNoEvents()
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UpcasterGapError);
    expect((error as Error).message).to.contain("Given event 2: event type 'FixtureUpcastTest.Dimmed' v3 has no path");
  });

  it('refuses given values that are neither events nor records', async () => {
    class Plain {}
    const undeclared = await fixture.given(new Plain()).when(new Dim('l', 1)).expectNoEvents().catch((e: unknown) => e);
    expect(undeclared).to.be.instanceOf(UndeclaredEventError);
    const notRecord = await fixture.given({ type: 'FixtureUpcastTest.Dimmed' }).when(new Dim('l', 1)).expectNoEvents().catch((e: unknown) => e);
    expect(notRecord).to.be.instanceOf(InvalidOptionError);
  });

  it('checks the upcasters when it is built', () => {
    const twin = defineUpcaster('FixtureUpcastTest.Installed', 1, (event) => event);
    expect(() => new AggregateTestFixture(Lamp, { upcasters: [renameInstalled, twin] })).to.throw(DuplicateUpcasterError);
  });
});
