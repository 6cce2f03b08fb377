import { expect } from 'chai';
import { EventEnvelope, InMemoryWriter } from '@tributary/core';
import {
  InvalidProjectionHandlerError,
  InvalidProjectionNameError,
  NotAProjectionError,
  On,
  OnErased,
  Projection,
  ProjectionModel,
  defineProjection,
} from '@tributary/projections';
import { ItemAdded, OrderPlaced, OrderShipped } from './support/shop';

const envelope = (payload: object): EventEnvelope<object> => ({
  eventId: 'e-1',
  type: 'ProjectionTest.OrderPlaced',
  schemaVersion: 1,
  aggregateType: 'ShopOrder',
  aggregateId: 'o-1',
  sequence: 1,
  occurredAt: new Date(0),
  correlationId: 'c',
  causationId: 'c',
  metadata: {},
  payload,
});

describe('ProjectionModel', () => {
  it('binds @On methods of a class, its base classes included, to their event classes', async () => {
    const calls: string[] = [];
    class Base {
      @On(OrderShipped)
      shipped(): void {
        calls.push('shipped');
      }
    }
    @Projection('model-test')
    class Summary extends Base {
      @On(OrderPlaced)
      placed(event: OrderPlaced, env: EventEnvelope<OrderPlaced>, writer: string): void {
        calls.push(`placed ${event.customerId} ${env.aggregateId} ${writer}`);
      }
    }
    const model = ProjectionModel.of<string>(Summary);
    expect(model.name).to.equal('model-test');
    expect(model.eventClasses).to.have.members([OrderPlaced, OrderShipped]);
    expect(model.handles(new ItemAdded('s', 1))).to.equal(false);
    await model.handle(new OrderPlaced('c-1'), envelope(new OrderPlaced('c-1')) as EventEnvelope<object>, 'db');
    await model.handle(new OrderShipped(), envelope(new OrderShipped()), 'db');
    await model.handle(new ItemAdded('s', 1), envelope(new ItemAdded('s', 1)), 'db');
    expect(calls).to.deep.equal(['placed c-1 o-1 db', 'shipped']);
  });

  it('calls the handlers of a given instance, with its own state', async () => {
    @Projection('instance-test')
    class Counter {
      count = 0;
      @On(OrderPlaced)
      placed(): void {
        this.count += 1;
      }
    }
    const counter = new Counter();
    const model = ProjectionModel.of(counter);
    await model.handle(new OrderPlaced('c'), envelope({}), undefined);
    expect(counter.count).to.equal(1);
  });

  it('takes the functional form, erasure handler included', async () => {
    const seen: string[] = [];
    const definition = defineProjection<InMemoryWriter>('functional-test')
      .on(OrderPlaced, (event, env) => void seen.push(`${env.aggregateId}:${event.customerId}`))
      .onErased((erased) => void seen.push(`erased ${erased.aggregateId}`));
    const model = ProjectionModel.of(definition);
    expect(model.hasErasureHandler).to.equal(true);
    await model.handle(new OrderPlaced('c-9'), envelope({}), undefined as never);
    await model.erase({ aggregateType: 'ShopOrder', aggregateId: 'o-1' }, undefined as never);
    expect(seen).to.deep.equal(['o-1:c-9', 'erased o-1']);
  });

  it('refuses an undecorated class, a bad name, a class that is not an event and a handler bound twice', () => {
    class Plain {}
    expect(() => ProjectionModel.of(Plain)).to.throw(NotAProjectionError, /Plain is not a projection/);
    expect(() => ProjectionModel.of(defineProjection('bad name!'))).to.throw(InvalidProjectionNameError, /bad name!/);
    class NotAnEvent {}
    expect(() => defineProjection('x').on(OrderPlaced, () => undefined).on(OrderPlaced, () => undefined)).to.throw(InvalidProjectionHandlerError, /handles OrderPlaced twice/);
    expect(() => ProjectionModel.of(defineProjection('x').on(NotAnEvent, () => undefined))).to.throw(InvalidProjectionHandlerError, /NotAnEvent, which has no @Event/);
    @Projection('twice')
    class Twice {
      @On(OrderPlaced) a(): void {}
      @On(OrderPlaced) b(): void {}
    }
    expect(() => ProjectionModel.of(Twice)).to.throw(InvalidProjectionHandlerError, /handles OrderPlaced twice/);
    @Projection('two-erasures')
    class TwoErasures {
      @OnErased() a(): void {}
      @OnErased() b(): void {}
    }
    expect(() => ProjectionModel.of(TwoErasures)).to.throw(InvalidProjectionHandlerError, /2 @OnErased methods/);
  });
});
