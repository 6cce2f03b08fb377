import { expect } from 'chai';
import {
  Aggregate,
  AggregateId,
  AggregateRoot,
  Apply,
  CommandHandler,
  DomainError,
  Event,
  InvalidHandlerResultError,
  MissingCommandHandlerError,
  TargetAggregateId,
} from '@tributary/core';
import { AggregateTestFixture, FixtureAssertionError } from '@tributary/testing';

@Event('FixtureTest.Registered')
class Registered {
  constructor(
    readonly lampId: string,
    readonly room: string,
  ) {}
}

@Event('FixtureTest.SwitchedOn')
class SwitchedOn {
  constructor(readonly brightness: number) {}
}

class RegisterLamp {
  constructor(
    readonly lampId: string,
    readonly room: string,
  ) {}
}

/** Addressed to one lamp; a buggy handler may register another. */
class RegisterLampAs {
  @TargetAggregateId() readonly lampId: string;
  constructor(
    lampId: string,
    readonly registeredId: string,
  ) {
    this.lampId = lampId;
  }
}

class SwitchOn {
  @TargetAggregateId() readonly lampId: string;
  constructor(
    lampId: string,
    readonly brightness: number,
  ) {
    this.lampId = lampId;
  }
}

class AlreadyOn extends DomainError {
  constructor(lampId: string) {
    super(`Lamp ${lampId} is already on`, 'LAMP_ALREADY_ON');
  }
}

@Aggregate('FixtureTest.Lamp')
class Lamp extends AggregateRoot {
  @AggregateId() id = '';
  room = '';
  brightness = 0;

  @CommandHandler(RegisterLamp)
  static register(command: RegisterLamp): Lamp {
    const lamp = new Lamp();
    lamp.apply(new Registered(command.lampId, command.room));
    return lamp;
  }

  @CommandHandler(RegisterLampAs)
  static registerAs(command: RegisterLampAs): Lamp {
    return Lamp.register(new RegisterLamp(command.registeredId, 'hall'));
  }

  @CommandHandler(SwitchOn)
  switchOn(command: SwitchOn): void {
    if (this.brightness > 0) throw new AlreadyOn(this.id);
    this.apply(new SwitchedOn(command.brightness));
  }

  @Apply(Registered) onRegistered(event: Registered): void {
    this.id = event.lampId;
    this.room = event.room;
  }

  @Apply(SwitchedOn) onSwitchedOn(event: SwitchedOn): void {
    this.brightness = event.brightness;
  }
}

async function assertionFailure(check: Promise<unknown>): Promise<FixtureAssertionError> {
  const error = await check.catch((e: unknown) => e);
  expect(error).to.be.instanceOf(FixtureAssertionError);
  return error as FixtureAssertionError;
}

describe('AggregateTestFixture', () => {
  const fixture = new AggregateTestFixture(Lamp);

  it('passes when the command stores the expected events, and shows the state after', async () => {
    const result = fixture.given(new Registered('l-1', 'hall')).when(new SwitchOn('l-1', 70));
    await result.expectEvents(new SwitchedOn(70));
    await result.expectState((lamp) => {
      expect(lamp.brightness).to.equal(70);
      expect(lamp.version).to.equal(2);
    });
  });

  it('creates from nothing', async () => {
    await fixture.givenNothing().when(new RegisterLamp('l-2', 'attic')).expectEvents(new Registered('l-2', 'attic'));
  });

  it('shows expected and actual events, numbered and typed, when they differ', async () => {
    const error = await assertionFailure(
      fixture.given(new Registered('l-3', 'hall')).when(new SwitchOn('l-3', 70)).expectEvents(new SwitchedOn(40)),
    );
    expect(error.expected).to.equal('  1. FixtureTest.SwitchedOn v1 {"brightness":40}');
    expect(error.actual).to.equal('  1. FixtureTest.SwitchedOn v1 {"brightness":70}');
    expect(error.showDiff).to.equal(true);
    expect(error.message).to.contain('other events than expected');

    const missing = await assertionFailure(fixture.given(new Registered('l-3', 'hall')).when(new SwitchOn('l-3', 70)).expectNoEvents());
    expect(missing.expected).to.equal('  (no events)');
  });

  it('expects a typed domain error, and reports one that was not expected', async () => {
    const on = [new Registered('l-4', 'hall'), new SwitchedOn(10)];
    await fixture.given(...on).when(new SwitchOn('l-4', 50)).expectError(AlreadyOn, /already on/);
    await fixture.given(...on).when(new SwitchOn('l-4', 50)).expectState((lamp) => lamp.brightness === 10);

    const unexpected = await assertionFailure(fixture.given(...on).when(new SwitchOn('l-4', 50)).expectEvents(new SwitchedOn(50)));
    expect(unexpected.actual).to.equal('  AlreadyOn [LAMP_ALREADY_ON]: Lamp l-4 is already on');

    const wrongMessage = await assertionFailure(fixture.given(...on).when(new SwitchOn('l-4', 50)).expectError(AlreadyOn, 'is off'));
    expect(wrongMessage.expected).to.equal('  AlreadyOn: is off');

    const succeeded = await assertionFailure(fixture.given(on[0]).when(new SwitchOn('l-4', 50)).expectError(AlreadyOn));
    expect(succeeded.message).to.contain('but it succeeded');
    expect(succeeded.actual).to.equal('  1. FixtureTest.SwitchedOn v1 {"brightness":50}');
  });

  it('fails a state assertion that returns false or throws', async () => {
    const result = fixture.given(new Registered('l-5', 'hall')).when(new SwitchOn('l-5', 30));
    await assertionFailure(result.expectState((lamp) => lamp.brightness === 99));
    const thrown = await result.expectState((lamp) => expect(lamp.room).to.equal('kitchen')).catch((e: unknown) => e);
    expect((thrown as Error).message).to.contain("expected 'hall' to equal 'kitchen'");
  });

  it('fails loudly for a command the aggregate does not handle', async () => {
    class Unplug {}
    const error = await fixture.given(new Registered('l-6', 'hall')).when(new Unplug()).expectNoEvents().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(MissingCommandHandlerError);
  });

  it('refuses a creation handler that creates another id than the command is addressed to, as production does', async () => {
    const mismatch = "Lamp.registerAs created FixtureTest.Lamp 'l-other' for a command addressed to 'l-asked'; they must match";
    const failed = await assertionFailure(fixture.givenNothing().when(new RegisterLampAs('l-asked', 'l-other')).expectEvents(new Registered('l-other', 'hall')));
    expect(failed.actual).to.equal(`  InvalidHandlerResultError [INVALID_HANDLER_RESULT]: ${mismatch}`);
    await fixture.givenNothing().when(new RegisterLampAs('l-asked', 'l-other')).expectError(InvalidHandlerResultError, mismatch);

    const scenario = await fixture.givenNothing().whenAll([new RegisterLampAs('l-asked', 'l-other')]).catch((e: unknown) => e);
    expect(scenario).to.be.instanceOf(InvalidHandlerResultError).and.have.property('message', mismatch);
  });

  it('runs scenarios for property tests: live state, rebuilt state, history and steps', async () => {
    const run = await fixture.givenNothing().whenAll([new RegisterLamp('l-7', 'den'), new SwitchOn('l-7', 20), new SwitchOn('l-7', 30)]);
    expect(run.history.map((e) => [e.sequence, e.type])).to.deep.equal([
      [1, 'FixtureTest.Registered'],
      [2, 'FixtureTest.SwitchedOn'],
    ]);
    expect(run.steps[2]).to.have.property('error').that.is.instanceOf(AlreadyOn);
    expect(run.live).to.deep.equal(run.rebuilt);
    expect(run.rebuilt!.brightness).to.equal(20);
  });
});
