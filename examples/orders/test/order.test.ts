import { expect } from 'chai';
import { AggregateTestFixture } from '@tributary/testing';
import {
  AddItem,
  CancelOrder,
  CreateOrder,
  EmptyOrderError,
  InvalidLineItemError,
  ItemAdded,
  ItemNotInOrderError,
  ItemRemoved,
  LineItem,
  Order,
  OrderAlreadyCancelledError,
  OrderAlreadySubmittedError,
  OrderCancelled,
  OrderCreated,
  OrderSubmitted,
  RemoveItem,
  SubmitOrder,
} from '../src';

const beans = new LineItem('beans', 2, 1450);
const grinder = new LineItem('grinder', 1, 8900);
const created = new OrderCreated('o-1', 'c-1', [beans]);
const submitted = new OrderSubmitted('o-1', new Date('2026-11-01T10:00:00Z'));

describe('Order', () => {
  const fixture = new AggregateTestFixture(Order);

  it('is created with its first items', async () => {
    const result = fixture.givenNothing().when(new CreateOrder('o-1', 'c-1', [beans]));
    await result.expectEvents(created);
    await result.expectState((order) => {
      expect(order.status).to.equal('open');
      expect(order.totalCents).to.equal(2900);
    });
  });

  it('adds items, summing quantities of the same item', async () => {
    const result = fixture.given(created).when(new AddItem('o-1', new LineItem('beans', 3, 1450)));
    await result.expectEvents(new ItemAdded('o-1', new LineItem('beans', 3, 1450)));
    await result.expectState((order) => expect(order.items).to.deep.equal([new LineItem('beans', 5, 1450)]));
  });

  it('refuses nonsense quantities and prices', async () => {
    await fixture.given(created).when(new AddItem('o-1', new LineItem('x', 0, 100))).expectError(InvalidLineItemError, 'quantity');
    await fixture.givenNothing().when(new CreateOrder('o-2', 'c-1', [new LineItem('x', 1, -5)])).expectError(InvalidLineItemError, 'price');
  });

  it('removes an item that is there, and refuses to remove one that is not', async () => {
    await fixture.given(created, new ItemAdded('o-1', grinder)).when(new RemoveItem('o-1', 'grinder')).expectEvents(new ItemRemoved('o-1', 'grinder'));
    await fixture.given(created).when(new RemoveItem('o-1', 'grinder')).expectError(ItemNotInOrderError, "no item 'grinder'");
    await fixture.given(created, new ItemRemoved('o-1', 'beans')).when(new RemoveItem('o-1', 'beans')).expectError(ItemNotInOrderError);
  });

  it('submits an order with items, stamping the time', async () => {
    const result = fixture.given(created).when(new SubmitOrder('o-1'));
    await result.expectState((order) => {
      expect(order.status).to.equal('submitted');
      expect(order.submittedAt).to.be.instanceOf(Date);
    });
  });

  it('refuses to submit an empty order', async () => {
    await fixture.given(new OrderCreated('o-1', 'c-1')).when(new SubmitOrder('o-1')).expectError(EmptyOrderError, 'no items');
    await fixture.given(created, new ItemRemoved('o-1', 'beans')).when(new SubmitOrder('o-1')).expectError(EmptyOrderError);
  });

  it('takes no item changes after submission, and no second submission', async () => {
    await fixture.given(created, submitted).when(new AddItem('o-1', grinder)).expectError(OrderAlreadySubmittedError);
    await fixture.given(created, submitted).when(new RemoveItem('o-1', 'beans')).expectError(OrderAlreadySubmittedError);
    await fixture.given(created, submitted).when(new SubmitOrder('o-1')).expectError(OrderAlreadySubmittedError);
  });

  it('cancels once, open or submitted, and then takes nothing more', async () => {
    await fixture.given(created).when(new CancelOrder('o-1', 'changed mind')).expectEvents(new OrderCancelled('o-1', 'changed mind'));
    await fixture.given(created, submitted).when(new CancelOrder('o-1', 'late')).expectEvents(new OrderCancelled('o-1', 'late'));
    const cancelled = [created, new OrderCancelled('o-1', 'changed mind')];
    await fixture.given(...cancelled).when(new CancelOrder('o-1', 'again')).expectError(OrderAlreadyCancelledError);
    await fixture.given(...cancelled).when(new AddItem('o-1', grinder)).expectError(OrderAlreadyCancelledError);
    await fixture.given(...cancelled).when(new SubmitOrder('o-1')).expectError(OrderAlreadyCancelledError);
  });
});
