import { expect } from 'chai';
import {
  Aggregate,
  AggregateId,
  AggregateRoot,
  Apply,
  CommandBus,
  CommandHandler,
  ConfigurationError,
  DuplicateAggregateTypeError,
  DuplicateApplierError,
  DuplicateCommandHandlerError,
  DuplicateEventTypeError,
  Event,
  InvalidDecoratorError,
  InvalidHandlerResultError,
  InvalidOptionError,
  MissingAggregateIdError,
  MissingAggregateIdValueError,
  MissingApplierError,
  MissingCommandHandlerError,
  MissingTargetAggregateIdError,
  MissingTargetIdValueError,
  NotAnAggregateError,
  TargetAggregateId,
  TributaryError,
  UndeclaredEventError,
  exploreAggregate,
} from '@tributary/core';

/** Runs `action`, expecting it to throw an error of `errorClass`; returns that error. */
async function failure<E extends Error>(errorClass: abstract new (...args: never[]) => E, action: () => unknown): Promise<E> {
  try {
    await action();
  } catch (error) {
    expect(error).to.be.instanceOf(errorClass);
    return error as E;
  }
  throw new Error(`expected ${errorClass.name} to be thrown`);
}

@Event('ValidationTest.Opened')
class Opened {
  constructor(readonly id: string) {}
}

@Event('ValidationTest.Noted')
class Noted {}

class NotAnEvent {}

class Open {
  constructor(readonly id: string) {}
}

class Note {
  @TargetAggregateId() id: string;
  constructor(id: string) {
    this.id = id;
  }
}

class Untargeted {}

describe('start-up validation', () => {
  it('rejects two event classes with the same type and version, naming both', async () => {
    @Event('ValidationTest.Twice', { version: 1 })
    class TwiceA {}
    @Event('ValidationTest.Twice', { version: 1 })
    class TwiceB {}

    @Aggregate('ValidationTest.TwiceAggregate')
    class TwiceAggregate extends AggregateRoot {
      @AggregateId() id = '';
      @Apply(TwiceA) a(): void {}
      @Apply(TwiceB) b(): void {}
    }

    const error = await failure(DuplicateEventTypeError, () => new CommandBus({ aggregates: [TwiceAggregate] }));
    expect(error.code).to.equal('DUPLICATE_EVENT_TYPE');
    expect(error.message).to.contain("'ValidationTest.Twice' version 1").and.contain('TwiceA').and.contain('TwiceB');
    expect(error).to.be.instanceOf(ConfigurationError).and.instanceOf(TributaryError);
    expect(error.retriable).to.equal(false);
  });

  it('accepts two versions of one event type', () => {
    @Event('ValidationTest.Versioned', { version: 1 })
    class VersionedV1 {}
    @Event('ValidationTest.Versioned', { version: 2 })
    class VersionedV2 {}
    @Aggregate('ValidationTest.VersionedAggregate')
    class VersionedAggregate extends AggregateRoot {
      @AggregateId() id = '';
      @Apply(VersionedV2) b(): void {}
    }
    const bus = new CommandBus({ aggregates: [VersionedAggregate], events: [VersionedV1] });
    expect(bus.eventRegistry.classFor('ValidationTest.Versioned', 1)).to.equal(VersionedV1);
    expect(bus.eventRegistry.classFor('ValidationTest.Versioned', 2)).to.equal(VersionedV2);
  });

  it('rejects two aggregate classes with the same type name', async () => {
    @Aggregate('ValidationTest.Same')
    class SameA extends AggregateRoot {
      @AggregateId() id = '';
    }
    @Aggregate('ValidationTest.Same')
    class SameB extends AggregateRoot {
      @AggregateId() id = '';
    }
    const error = await failure(DuplicateAggregateTypeError, () => new CommandBus({ aggregates: [SameA, SameB] }));
    expect(error.code).to.equal('DUPLICATE_AGGREGATE_TYPE');
    expect(error.message).to.contain('SameA').and.contain('SameB');
  });

  it('rejects an aggregate without @AggregateId, naming the class', async () => {
    @Aggregate('ValidationTest.Anonymous')
    class Anonymous extends AggregateRoot {
      id = '';
    }
    const error = await failure(MissingAggregateIdError, () => new CommandBus({ aggregates: [Anonymous] }));
    expect(error.code).to.equal('MISSING_AGGREGATE_ID');
    expect(error.message).to.contain('Anonymous').and.contain('@AggregateId()');
  });

  it('rejects a class without @Aggregate, and one that does not extend AggregateRoot', async () => {
    class Plain extends AggregateRoot {}
    const missing = await failure(NotAnAggregateError, () => exploreAggregate(Plain));
    expect(missing.code).to.equal('NOT_AN_AGGREGATE');
    expect(missing.message).to.contain('Plain').and.contain('@Aggregate');

    @Aggregate('ValidationTest.Detached')
    class Detached {
      @AggregateId() id = '';
    }
    const detached = await failure(NotAnAggregateError, () =>
      exploreAggregate(Detached as unknown as new () => AggregateRoot),
    );
    expect(detached.message).to.contain('Detached').and.contain('does not extend AggregateRoot');
  });

  it('rejects an event applied with no @Apply for it, naming aggregate and event', async () => {
    @Aggregate('ValidationTest.Forgetful')
    class Forgetful extends AggregateRoot {
      @AggregateId() id = '';
      @CommandHandler(Open)
      static open(command: Open): Forgetful {
        const aggregate = new Forgetful();
        aggregate.apply(new Opened(command.id));
        return aggregate;
      }
    }
    const bus = new CommandBus({ aggregates: [Forgetful] });
    const error = await failure(MissingApplierError, () => bus.execute(new Open('f-1')));
    expect(error.code).to.equal('MISSING_APPLIER');
    expect(error.message).to.contain('Forgetful').and.contain('@Apply(Opened)');
    expect(await bus.repository(Forgetful).find('f-1')).to.equal(undefined);
  });

  it('rejects @Apply of a class that is not a declared event', async () => {
    @Aggregate('ValidationTest.AppliesPlain')
    class AppliesPlain extends AggregateRoot {
      @AggregateId() id = '';
      @Apply(NotAnEvent) onPlain(): void {}
    }
    const error = await failure(UndeclaredEventError, () => new CommandBus({ aggregates: [AppliesPlain] }));
    expect(error.code).to.equal('UNDECLARED_EVENT');
    expect(error.message).to.contain('AppliesPlain.onPlain').and.contain('NotAnEvent').and.contain('@Event(');
  });

  it('rejects a handler that applies an event of an undeclared type, naming the handler', async () => {
    @Aggregate('ValidationTest.Sloppy')
    class Sloppy extends AggregateRoot {
      @AggregateId() id = '';
      @CommandHandler(Open)
      static open(command: Open): Sloppy {
        const aggregate = new Sloppy();
        aggregate.apply(new Opened(command.id));
        return aggregate;
      }
      @CommandHandler(Note)
      note(): void {
        this.apply(new NotAnEvent());
      }
      @Apply(Opened) onOpened(event: Opened): void {
        this.id = event.id;
      }
    }
    const bus = new CommandBus({ aggregates: [Sloppy] });
    await bus.execute(new Open('s-1'));
    const error = await failure(UndeclaredEventError, () => bus.execute(new Note('s-1')));
    expect(error.message).to.contain('Sloppy.note').and.contain('NotAnEvent');
    expect((await bus.repository(Sloppy).load('s-1')).version).to.equal(1);
  });

  it('rejects a command no aggregate handles, naming the command', async () => {
    @Aggregate('ValidationTest.Quiet')
    class Quiet extends AggregateRoot {
      @AggregateId() id = '';
    }
    class Unhandled {}
    const bus = new CommandBus({ aggregates: [Quiet] });
    const error = await failure(MissingCommandHandlerError, () => bus.execute(new Unhandled()));
    expect(error.code).to.equal('MISSING_COMMAND_HANDLER');
    expect(error.message).to.contain('Unhandled').and.contain('@CommandHandler(Unhandled)');
    const plain = await failure(MissingCommandHandlerError, () => bus.execute({ id: 'x' }));
    expect(plain.message).to.contain('plain object');
  });

  it('rejects two handlers for one command, within an aggregate or across aggregates', async () => {
    @Aggregate('ValidationTest.DoubleHandler')
    class DoubleHandler extends AggregateRoot {
      @AggregateId() id = '';
      @CommandHandler(Note) first(): void {}
      @CommandHandler(Note) second(): void {}
    }
    const within = await failure(DuplicateCommandHandlerError, () => exploreAggregate(DoubleHandler));
    expect(within.message).to.contain('Note').and.contain('DoubleHandler.first').and.contain('DoubleHandler.second');

    @Aggregate('ValidationTest.HandlerA')
    class HandlerA extends AggregateRoot {
      @AggregateId() id = '';
      @CommandHandler(Note) note(): void {}
    }
    @Aggregate('ValidationTest.HandlerB')
    class HandlerB extends AggregateRoot {
      @AggregateId() id = '';
      @CommandHandler(Note) note(): void {}
    }
    const across = await failure(DuplicateCommandHandlerError, () => new CommandBus({ aggregates: [HandlerA, HandlerB] }));
    expect(across.code).to.equal('DUPLICATE_COMMAND_HANDLER');
    expect(across.message).to.contain('HandlerA.note').and.contain('HandlerB.note');
  });

  it('rejects two appliers for one event in one class, but lets a subclass override', async () => {
    @Aggregate('ValidationTest.DoubleApplier')
    class DoubleApplier extends AggregateRoot {
      @AggregateId() id = '';
      @Apply(Noted) first(): void {}
      @Apply(Noted) second(): void {}
    }
    const error = await failure(DuplicateApplierError, () => exploreAggregate(DoubleApplier));
    expect(error.code).to.equal('DUPLICATE_APPLIER');
    expect(error.message).to.contain('Noted').and.contain('first').and.contain('second');

    class BaseNotes extends AggregateRoot {
      @AggregateId() id = '';
      notes: string[] = [];
      @Apply(Noted) onNoted(): void {
        this.notes.push('base');
      }
    }
    @Aggregate('ValidationTest.DerivedNotes')
    class DerivedNotes extends BaseNotes {
      @Apply(Noted) onNotedAgain(): void {
        this.notes.push('derived');
      }
    }
    const model = exploreAggregate(DerivedNotes);
    expect(model.applierFor(Noted)).to.equal('onNotedAgain');
    expect(model.idProperty).to.equal('id');
  });

  it('rejects an instance handler whose command lacks @TargetAggregateId', async () => {
    @Aggregate('ValidationTest.Untargeted')
    class UntargetedAggregate extends AggregateRoot {
      @AggregateId() id = '';
      @CommandHandler(Untargeted) handle(): void {}
    }
    const error = await failure(MissingTargetAggregateIdError, () => exploreAggregate(UntargetedAggregate));
    expect(error.code).to.equal('MISSING_TARGET_AGGREGATE_ID');
    expect(error.message).to.contain('Untargeted').and.contain('UntargetedAggregate.handle').and.contain('@TargetAggregateId()');
  });

  it('rejects bad decorator arguments: event version, empty names, undefined classes', async () => {
    @Event('ValidationTest.Zero', { version: 0 })
    class Zero {}
    @Aggregate('ValidationTest.ZeroAggregate')
    class ZeroAggregate extends AggregateRoot {
      @AggregateId() id = '';
      @Apply(Zero) on(): void {}
    }
    const version = await failure(InvalidDecoratorError, () => exploreAggregate(ZeroAggregate));
    expect(version.message).to.contain('Zero').and.contain('version 0');

    @Aggregate('')
    class Nameless extends AggregateRoot {
      @AggregateId() id = '';
    }
    const name = await failure(InvalidDecoratorError, () => exploreAggregate(Nameless));
    expect(name.message).to.contain('Nameless').and.contain('non-empty type name');

    const circular = undefined as unknown as new () => object;
    @Aggregate('ValidationTest.Circular')
    class Circular extends AggregateRoot {
      @AggregateId() id = '';
      @Apply(circular) on(): void {}
    }
    const unresolved = await failure(InvalidDecoratorError, () => exploreAggregate(Circular));
    expect(unresolved.message).to.contain('Circular.on').and.contain('circular import');
  });

  it('rejects a bus with no aggregates and a repository for an unregistered class', async () => {
    await failure(InvalidOptionError, () => new CommandBus({ aggregates: [] }));
    @Aggregate('ValidationTest.Registered')
    class Registered extends AggregateRoot {
      @AggregateId() id = '';
    }
    @Aggregate('ValidationTest.Stranger')
    class Stranger extends AggregateRoot {
      @AggregateId() id = '';
    }
    const bus = new CommandBus({ aggregates: [Registered] });
    const error = await failure(InvalidOptionError, () => bus.repository(Stranger));
    expect(error.message).to.contain('Stranger').and.contain('not registered');
  });

  it('rejects handler results it cannot use', async () => {
    @Aggregate('ValidationTest.Results')
    class Results extends AggregateRoot {
      @AggregateId() id = '';
      @CommandHandler(Open)
      static open(): Results {
        return new Results(); // never applies the creation event, so has no id
      }
      @CommandHandler(Note)
      note(): object {
        return new Noted(); // decider style: would be silently lost
      }
    }
    const bus = new CommandBus({ aggregates: [Results] });
    const noId = await failure(MissingAggregateIdValueError, () => bus.execute(new Open('r-1')));
    expect(noId.message).to.contain('Results.open').and.contain("'id'");

    @Aggregate('ValidationTest.Returns')
    class Returns extends AggregateRoot {
      @AggregateId() id = '';
      @CommandHandler(Open)
      static open(command: Open): Returns {
        const aggregate = new Returns();
        aggregate.apply(new Opened(command.id));
        return aggregate;
      }
      @CommandHandler(Note)
      note(): object {
        return new Noted();
      }
      @Apply(Opened) onOpened(event: Opened): void {
        this.id = event.id;
      }
      @Apply(Noted) onNoted(): void {}
    }
    const returnsBus = new CommandBus({ aggregates: [Returns] });
    await returnsBus.execute(new Open('r-2'));
    const returned = await failure(InvalidHandlerResultError, () => returnsBus.execute(new Note('r-2')));
    expect(returned.message).to.contain('Returns.note').and.contain('this.apply(event)');
    const empty = await failure(MissingTargetIdValueError, () => returnsBus.execute(new Note('')));
    expect(empty.message).to.contain('Note.id');
  });
});
