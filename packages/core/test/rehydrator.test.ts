import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  Aggregate,
  AggregateId,
  AggregateRoot,
  Apply,
  Event,
  EventStore,
  InMemoryEventStore,
  InMemorySnapshotStore,
  InvalidOptionError,
  NewEvent,
  ReadStreamOptions,
  Rehydrator,
  RehydratorWarning,
  Snapshot,
  SnapshotPolicies,
  SnapshotQuery,
  SnapshotStore,
  StreamId,
  shapeVersionOf,
  exploreAggregate,
  CommandBus,
  CommandHandler,
  TargetAggregateId,
} from '@tributary/core';
import { snapshotRehydrationContract } from '@tributary/testing';

@Event('RehydratorTest.Opened')
class Opened {
  constructor(readonly meterId: string) {}
}

@Event('RehydratorTest.Read')
class Read {
  constructor(readonly kwh: number) {}
}

@Aggregate('RehydratorTest.Meter')
class Meter extends AggregateRoot {
  @AggregateId() id = '';
  total = 0;
  readings = 0;

  @Apply(Opened) opened(event: Opened): void {
    this.id = event.meterId;
  }
  @Apply(Read) read(event: Read): void {
    this.total += event.kwh;
    this.readings += 1;
  }
}

class TakeReading {
  @TargetAggregateId() readonly meterId: string;
  constructor(
    meterId: string,
    readonly kwh: number,
  ) {
    this.meterId = meterId;
  }
}

class InstallMeter {
  constructor(readonly meterId: string) {}
}

@Aggregate('RehydratorTest.SmartMeter')
class SmartMeter extends AggregateRoot {
  @AggregateId() id = '';
  total = 0;

  @CommandHandler(InstallMeter) static install(command: InstallMeter): SmartMeter {
    const meter = new SmartMeter();
    meter.apply(new Opened(command.meterId));
    return meter;
  }
  @CommandHandler(TakeReading) take(command: TakeReading): void {
    this.apply(new Read(command.kwh));
  }
  @Apply(Opened) opened(event: Opened): void {
    this.id = event.meterId;
  }
  @Apply(Read) read(event: Read): void {
    this.total += event.kwh;
  }
}

@Aggregate('RehydratorTest.DeclaredMeter', { shapeVersion: 7 })
class DeclaredMeter extends AggregateRoot {
  @AggregateId() id = '';
  @Apply(Opened) opened(event: Opened): void {
    this.id = event.meterId;
  }
}

/** An event store that records where each read started: shows whether a load used its snapshot. */
class WatchedEventStore extends InMemoryEventStore {
  readonly reads: Array<number | undefined> = [];
  override async readStream(stream: StreamId, options?: ReadStreamOptions) {
    this.reads.push(options?.fromSequence);
    return super.readStream(stream, options);
  }
}

async function meterWith(store: EventStore, readings: number): Promise<string> {
  const id = `meter-${randomUUID()}`;
  const event = (type: string, payload: object, index: number): NewEvent => ({
    eventId: randomUUID(),
    type,
    schemaVersion: 1,
    payload: payload as NewEvent['payload'],
    occurredAt: new Date(Date.UTC(2026, 0, 1) + index * 60_000),
    correlationId: 'test',
    causationId: 'test',
    metadata: {},
  });
  await store.appendToStream({ aggregateType: 'RehydratorTest.Meter', aggregateId: id }, 0, [
    event('RehydratorTest.Opened', { meterId: id }, 0),
    ...Array.from({ length: readings }, (_, index) => event('RehydratorTest.Read', { kwh: index + 1 }, index + 1)),
  ]);
  return id;
}

snapshotRehydrationContract('InMemorySnapshotStore', () => new InMemorySnapshotStore());

describe('Rehydrator', () => {
  it('starts from the newest snapshot and reads only the events after it', async () => {
    const events = new WatchedEventStore();
    const snapshots = new InMemorySnapshotStore();
    const id = await meterWith(events, 9);
    const meters = new Rehydrator({ aggregate: Meter, eventStore: events, snapshots, policy: SnapshotPolicies.everyEvents(5) });

    const first = (await meters.load(id))!;
    await meters.flush();
    expect(first).to.include({ total: 45, readings: 9, version: 10 });
    expect((await snapshots.load('RehydratorTest.Meter', id))?.version, 'the policy took a snapshot').to.equal(10);

    const second = (await meters.load(id))!;
    expect(second).to.include({ total: 45, readings: 9, version: 10 });
    expect(events.reads).to.deep.equal([1, 11]);
  });

  it('takes no snapshot when the policy says no, and a failed write never fails the load', async () => {
    const events = new InMemoryEventStore();
    const id = await meterWith(events, 3);
    const failing: SnapshotStore = {
      save: async () => {
        throw new Error('disk full');
      },
      load: async () => undefined,
      delete: async () => undefined,
    };
    const warnings: RehydratorWarning[] = [];
    const meters = new Rehydrator({ aggregate: Meter, eventStore: events, snapshots: failing, policy: SnapshotPolicies.everyEvents(1), onWarning: (w) => warnings.push(w) });
    expect(await meters.load(id)).to.include({ total: 6 });
    await meters.flush();
    expect(warnings.map((w) => w.kind)).to.deep.equal(['snapshot-save-failed']);
    expect(warnings[0].message).to.include('disk full');

    const quiet = new InMemorySnapshotStore();
    const never = new Rehydrator({ aggregate: Meter, eventStore: events, snapshots: quiet, policy: SnapshotPolicies.everyEvents(100) });
    await never.load(id);
    await never.flush();
    expect(await quiet.load('RehydratorTest.Meter', id)).to.equal(undefined);
  });

  it('ignores a snapshot of another state shape, warns once, and replaces it', async () => {
    const events = new InMemoryEventStore();
    const snapshots = new InMemorySnapshotStore();
    const ids = [await meterWith(events, 4), await meterWith(events, 2)];
    for (const id of ids) {
      await snapshots.save({ aggregateType: 'RehydratorTest.Meter', aggregateId: id, version: 3, state: { id, total: 999, readings: 99 }, shapeVersion: 'an-old-shape', occurredAt: new Date(0) });
    }
    const warnings: RehydratorWarning[] = [];
    const meters = new Rehydrator({ aggregate: Meter, eventStore: events, snapshots, policy: SnapshotPolicies.everyEvents(1000), onWarning: (w) => warnings.push(w) });
    expect(await meters.load(ids[0])).to.include({ total: 10, readings: 4 });
    expect(await meters.load(ids[1])).to.include({ total: 3, readings: 2 });
    await meters.flush();
    expect(warnings.map((w) => w.kind), 'once per aggregate type').to.deep.equal(['snapshot-shape-changed']);
    const replaced = await snapshots.load('RehydratorTest.Meter', ids[0]);
    expect(replaced).to.include({ version: 5, shapeVersion: meters.shapeVersion });
    expect(replaced!.state).to.include({ total: 10 });
  });

  it('falls back to the events, with a warning, when a snapshot cannot be read or the store fails', async () => {
    const events = new InMemoryEventStore();
    const id = await meterWith(events, 3);
    const shape = shapeVersionOf(exploreAggregate(Meter));
    const cases: Array<[string, SnapshotStore]> = [
      ['snapshot-unreadable', storeHolding({ aggregateType: 'RehydratorTest.Meter', aggregateId: id, version: 2, state: null as never, shapeVersion: shape, occurredAt: new Date(0) })],
      ['snapshot-unreadable', storeHolding({ aggregateType: 'RehydratorTest.Meter', aggregateId: id, version: 2, state: { id: 'someone-else', total: 1 }, shapeVersion: shape, occurredAt: new Date(0) })],
      ['snapshot-unreadable', storeHolding({ aggregateType: 'RehydratorTest.Meter', aggregateId: id, version: -1, state: { id }, shapeVersion: shape, occurredAt: new Date(0) })],
      [
        'snapshot-load-failed',
        {
          save: async () => undefined,
          load: async () => {
            throw new Error('connection refused');
          },
          delete: async () => undefined,
        },
      ],
    ];
    for (const [kind, snapshots] of cases) {
      const warnings: RehydratorWarning[] = [];
      const meters = new Rehydrator({ aggregate: Meter, eventStore: events, snapshots, onWarning: (w) => warnings.push(w) });
      expect(await meters.load(id), kind).to.include({ total: 6, readings: 3, version: 4 });
      expect(warnings.map((w) => w.kind)).to.deep.equal([kind]);
    }
  });

  it('answers as of a version and as of a time, and undefined before the first event', async () => {
    const events = new InMemoryEventStore();
    const id = await meterWith(events, 5);
    const meters = new Rehydrator({ aggregate: Meter, eventStore: events, snapshots: new InMemorySnapshotStore() });
    expect(await meters.load(id, { version: 3 })).to.include({ total: 3, version: 3 });
    expect(await meters.load(id, { version: 50 })).to.include({ total: 15, version: 6 });
    expect(await meters.load(id, { version: 0 })).to.equal(undefined);
    expect(await meters.load(id, { asOf: new Date(Date.UTC(2026, 0, 1) + 2 * 60_000 + 59_999) })).to.include({ total: 3, version: 3 });
    expect(await meters.load(id, { asOf: new Date(Date.UTC(2025, 0, 1)) })).to.equal(undefined);
    expect(await meters.load('no-such-meter')).to.equal(undefined);
  });

  it('uses the declared shape version, and derives one that changes with the aggregate otherwise', () => {
    expect(shapeVersionOf(exploreAggregate(DeclaredMeter))).to.equal('7');
    expect(shapeVersionOf(exploreAggregate(Meter))).to.match(/^derived-[0-9a-f]{16}$/);
    expect(shapeVersionOf(exploreAggregate(Meter))).to.not.equal(shapeVersionOf(exploreAggregate(DeclaredMeter)));
  });

  it('refuses bad options with typed errors', async () => {
    const events = new InMemoryEventStore();
    expect(() => new Rehydrator({ aggregate: undefined as never, eventStore: events })).to.throw(InvalidOptionError);
    const meters = new Rehydrator({ aggregate: Meter, eventStore: events });
    for (const bad of [{ version: -1 }, { version: 1.5 }, { asOf: new Date(Number.NaN) }]) {
      expect(await meters.load('x', bad).catch((error: unknown) => error)).to.be.instanceOf(InvalidOptionError);
    }
    expect(() => SnapshotPolicies.everyEvents(0)).to.throw(InvalidOptionError);
    expect(await meters.takeSnapshot(new Meter()).catch((error: unknown) => error)).to.be.instanceOf(InvalidOptionError);
  });
});

describe('CommandBus with snapshots', () => {
  it('loads through snapshots taken by its policy, and a failed snapshot write never fails a command', async () => {
    const eventStore = new WatchedEventStore();
    const snapshots = new InMemorySnapshotStore();
    const bus = new CommandBus({ aggregates: [SmartMeter], eventStore, snapshots, snapshotPolicy: () => SnapshotPolicies.everyEvents(3) });
    await bus.execute(new InstallMeter('m-1'));
    for (let kwh = 1; kwh <= 5; kwh += 1) await bus.execute(new TakeReading('m-1', kwh));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const kept = await snapshots.load('RehydratorTest.SmartMeter', 'm-1');
    expect(kept?.version, 'taken when a load had applied 3 or more events').to.be.at.least(3);
    expect((await bus.repository(SmartMeter).load('m-1')).total).to.equal(15);
    expect(eventStore.reads.at(-1), 'the last load started after the snapshot').to.equal(kept!.version + 1);

    const warnings: RehydratorWarning[] = [];
    const broken: SnapshotStore = {
      save: async () => {
        throw new Error('snapshot store down');
      },
      load: async () => undefined,
      delete: async () => undefined,
    };
    const stubborn = new CommandBus({ aggregates: [SmartMeter], snapshots: broken, snapshotPolicy: SnapshotPolicies.everyEvents(1), onWarning: (w) => warnings.push(w) });
    await stubborn.execute(new InstallMeter('m-2'));
    const result = await stubborn.execute(new TakeReading('m-2', 7));
    expect(result.version).to.equal(2);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(warnings.map((w) => w.kind)).to.deep.equal(['snapshot-save-failed']);
  });
});

function storeHolding(snapshot: Snapshot): SnapshotStore {
  return {
    save: async () => undefined,
    load: async (_type: string, _id: string, query?: SnapshotQuery) => (query?.maxVersion !== undefined && snapshot.version > query.maxVersion ? undefined : snapshot),
    delete: async () => undefined,
  };
}
