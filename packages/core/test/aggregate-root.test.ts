import { expect } from 'chai';
import { EventSequenceError, exploreAggregate } from '@tributary/core';
import { Counter, CounterOpened, Incremented, OpenCounter } from './support/counter';

describe('AggregateRoot', () => {
  it('apply runs the applier, records the event and advances the version', async () => {
    const model = exploreAggregate(Counter);
    const counter = await model.create(new OpenCounter('a-1'), model.commandHandlers.get(OpenCounter)!);
    expect(counter.id).to.equal('a-1');
    expect(counter.version).to.equal(1);
    expect(counter.getUncommittedEvents()).to.have.length(1);
    expect(counter.getUncommittedEvents()[0]).to.be.instanceOf(CounterOpened);
  });

  it('rehydrate replays through the same appliers without recording', () => {
    const model = exploreAggregate(Counter);
    const counter = model.rehydrate('a-2', [
      { sequence: 1, payload: new CounterOpened('a-2', new Date(0)) },
      { sequence: 2, payload: new Incremented(5) },
      { sequence: 3, payload: new Incremented(2) },
    ])!;
    expect(counter.value).to.equal(7);
    expect(counter.version).to.equal(3);
    expect(counter.getUncommittedEvents()).to.have.length(0);
    expect(model.rehydrate('a-3', [])).to.equal(undefined);
  });

  it('replay applies one stored event at a time, with the same sequence checks', () => {
    const model = exploreAggregate(Counter);
    const opened = model.replay(undefined, 'a-6', { sequence: 1, payload: new CounterOpened('a-6', new Date(0)) });
    const counter = model.replay(opened, 'a-6', { sequence: 2, payloads: [new Incremented(2), new Incremented(3)] });
    expect(counter).to.equal(opened);
    expect(counter.value).to.equal(5);
    expect(counter.version).to.equal(2);
    expect(counter.getUncommittedEvents()).to.have.length(0);
    expect(() => model.replay(counter, 'a-6', { sequence: 4, payload: new Incremented(1) })).to.throw(EventSequenceError, 'expected event sequence 3 but read 4');
    expect(() => model.replay(undefined, 'a-7', { sequence: 2, payload: new Incremented(1) })).to.throw(EventSequenceError, 'expected event sequence 1 but read 2');
  });

  it('refuses a history with a gap or a repeat, naming where', () => {
    const model = exploreAggregate(Counter);
    const gap = () =>
      model.rehydrate('a-4', [
        { sequence: 1, payload: new CounterOpened('a-4', new Date(0)) },
        { sequence: 3, payload: new Incremented(1) },
      ]);
    expect(gap).to.throw(EventSequenceError, "'a-4': expected event sequence 2 but read 3");
    const repeat = () =>
      model.rehydrate('a-5', [
        { sequence: 1, payload: new CounterOpened('a-5', new Date(0)) },
        { sequence: 1, payload: new Incremented(1) },
      ]);
    expect(repeat).to.throw(EventSequenceError, 'expected event sequence 2 but read 1');
  });
});
