import { Aggregate, AggregateId, AggregateRoot, Apply, CommandHandler, DomainError, Event, TargetAggregateId } from '@tributary/core';
import { Type } from 'class-transformer';

/** A small aggregate for the command bus and repository tests. */
@Event('CoreTest.CounterOpened')
export class CounterOpened {
  @Type(() => Date)
  readonly openedAt: Date;
  constructor(
    readonly counterId: string,
    openedAt: Date,
  ) {
    this.openedAt = openedAt;
  }
}

@Event('CoreTest.Incremented')
export class Incremented {
  constructor(readonly by: number) {}
}

@Event('CoreTest.CounterReset')
export class CounterReset {}

export class OpenCounter {
  constructor(readonly counterId: string) {}
}

export class OpenNamedCounter {
  @TargetAggregateId() readonly counterId: string;
  constructor(counterId: string) {
    this.counterId = counterId;
  }
}

/** A creation command whose handler may create another id than the one it is addressed to. */
export class OpenCounterAs {
  @TargetAggregateId() readonly counterId: string;
  constructor(
    counterId: string,
    readonly createdId: string,
  ) {
    this.counterId = counterId;
  }
}

export class ResetCounter {
  @TargetAggregateId() readonly counterId: string;
  constructor(counterId: string) {
    this.counterId = counterId;
  }
}

export class Increment {
  @TargetAggregateId() readonly counterId: string;
  constructor(
    counterId: string,
    readonly by: number,
  ) {
    this.counterId = counterId;
  }
}

export class CounterLimitReached extends DomainError {
  constructor(counterId: string) {
    super(`Counter ${counterId} would pass its limit of 100`, 'COUNTER_LIMIT');
  }
}

@Aggregate('CoreTest.Counter')
export class Counter extends AggregateRoot {
  static handled = 0;
  @AggregateId() id = '';
  value = 0;
  openedAt?: Date;

  @CommandHandler(OpenCounter)
  static open(command: OpenCounter): Counter {
    const counter = new Counter();
    counter.apply(new CounterOpened(command.counterId, new Date('2026-01-02T03:04:05.678Z')));
    return counter;
  }

  @CommandHandler(OpenNamedCounter)
  static openNamed(command: OpenNamedCounter): Counter {
    return Counter.open(command);
  }

  @CommandHandler(OpenCounterAs)
  static openAs(command: OpenCounterAs): Counter {
    return Counter.open(new OpenCounter(command.createdId));
  }

  @CommandHandler(ResetCounter)
  reset(): void {
    this.apply(new CounterReset());
  }

  @CommandHandler(Increment)
  increment(command: Increment): void {
    Counter.handled += 1;
    if (this.value + command.by > 100) throw new CounterLimitReached(this.id);
    if (command.by === 0) return;
    for (let step = 0; step < command.by; step += 1) this.apply(new Incremented(1));
  }

  @Apply(CounterOpened)
  onOpened(event: CounterOpened): void {
    this.id = event.counterId;
    this.openedAt = event.openedAt;
  }

  @Apply(CounterReset)
  onReset(): void {
    this.value = 0;
  }

  @Apply(Incremented)
  onIncremented(event: Incremented): void {
    this.value += event.by;
  }
}
