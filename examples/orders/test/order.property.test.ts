import { expect } from 'chai';
import fc from 'fast-check';
import { DomainError, exploreAggregate } from '@tributary/core';
import { AggregateTestFixture } from '@tributary/testing';
import {
  AddItem,
  CancelOrder,
  CreateOrder,
  EmptyOrderError,
  ItemNotInOrderError,
  LineItem,
  Order,
  OrderAlreadyCancelledError,
  OrderAlreadySubmittedError,
  RemoveItem,
  SubmitOrder,
} from '../src';

const itemIds = ['beans', 'grinder', 'mug'];
const lineItem = fc
  .record({ itemId: fc.constantFrom(...itemIds), quantity: fc.integer({ min: 1, max: 5 }), price: fc.integer({ min: 0, max: 10_000 }) })
  .map(({ itemId, quantity, price }) => new LineItem(itemId, quantity, price));

/** Well-formed commands for order o-1; whether the rules accept them depends on what came before. */
const orderCommand = fc.oneof(
  { weight: 4, arbitrary: lineItem.map((item) => new AddItem('o-1', item)) },
  { weight: 2, arbitrary: fc.constantFrom(...itemIds).map((itemId) => new RemoveItem('o-1', itemId)) },
  { weight: 1, arbitrary: fc.constant(new SubmitOrder('o-1')) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((reason) => new CancelOrder('o-1', reason)) },
);
const scenario = fc.tuple(fc.array(lineItem, { maxLength: 3 }), fc.array(orderCommand, { maxLength: 25 }));

/** The rules, restated as simply as possible: which error, if any, should each command meet? */
function expectedRefusal(model: { status: string; items: Set<string> }, command: object): (new (...args: never[]) => DomainError) | undefined {
  if (command instanceof CancelOrder) return model.status === 'cancelled' ? OrderAlreadyCancelledError : undefined;
  if (model.status === 'submitted') return OrderAlreadySubmittedError;
  if (model.status === 'cancelled') return OrderAlreadyCancelledError;
  if (command instanceof RemoveItem && !model.items.has(command.itemId)) return ItemNotInOrderError;
  if (command instanceof SubmitOrder && model.items.size === 0) return EmptyOrderError;
  return undefined;
}

describe('Order (property)', () => {
  const fixture = new AggregateTestFixture(Order);

  it('rebuilt from its stored events equals the live aggregate, with sequences 1, 2, 3 …', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ([firstItems, commands]) => {
        const run = await fixture.givenNothing().whenAll([new CreateOrder('o-1', 'c-1', firstItems), ...commands]);
        expect(run.rebuilt).to.deep.equal(run.live);
        expect(run.history.map((event) => event.sequence)).to.deep.equal(run.history.map((_, index) => index + 1));
        expect(run.rebuilt!.version).to.equal(run.history.length);
        const storedByCommands = run.steps.flatMap((step) => ('events' in step ? step.events : []));
        expect(storedByCommands).to.have.length(run.history.length);
      }),
      { numRuns: 200 },
    );
  });

  it('restored from a snapshot of any state equals the live aggregate', async () => {
    const model = exploreAggregate(Order);
    await fc.assert(
      fc.asyncProperty(scenario, async ([firstItems, commands]) => {
        const { live } = await fixture.givenNothing().whenAll([new CreateOrder('o-1', 'c-1', firstItems), ...commands]);
        const snapshot = JSON.parse(JSON.stringify(model.toSnapshot(live!)));
        const restored = model.fromSnapshot(snapshot, live!.version);
        expect(restored).to.deep.equal(live);
        expect(restored.version).to.equal(live!.version);
      }),
      { numRuns: 200 },
    );
  });

  it('accepts and refuses exactly as the rules say', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ([firstItems, commands]) => {
        const run = await fixture.givenNothing().whenAll([new CreateOrder('o-1', 'c-1', firstItems), ...commands]);
        const model = { status: 'open', items: new Set(firstItems.map((item) => item.itemId)) };
        for (const step of run.steps.slice(1)) {
          const refusal = expectedRefusal(model, step.command);
          if (refusal) {
            expect(step, `${step.command.constructor.name} should be refused`).to.have.property('error').that.is.instanceOf(refusal);
            continue;
          }
          expect(step, `${step.command.constructor.name} should be accepted`).to.have.property('events').with.length(1);
          if (step.command instanceof AddItem) model.items.add(step.command.item.itemId);
          if (step.command instanceof RemoveItem) model.items.delete(step.command.itemId);
          if (step.command instanceof SubmitOrder) model.status = 'submitted';
          if (step.command instanceof CancelOrder) model.status = 'cancelled';
        }
      }),
      { numRuns: 200 },
    );
  });
});
