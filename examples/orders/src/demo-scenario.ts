import { CommandResult, DomainError } from '@tributary/core';
import { AddItem, CancelOrder, CreateOrder, LineItem, Order, RemoveItem, SubmitOrder } from './index';

/** The customer who places the demo's order. */
export const DEMO_CUSTOMER = 'customer-7';

/** A short life of one order, with three commands the rules refuse. */
export function demoCommands(orderId: string): object[] {
  return [
    new CreateOrder(orderId, DEMO_CUSTOMER, [new LineItem('coffee-beans', 2, 1450)]),
    new AddItem(orderId, new LineItem('grinder', 1, 8900)),
    new AddItem(orderId, new LineItem('coffee-beans', 1, 1450)),
    new RemoveItem(orderId, 'filters'), // refused: not in the order
    new RemoveItem(orderId, 'grinder'),
    new SubmitOrder(orderId),
    new AddItem(orderId, new LineItem('mug', 1, 1200)), // refused: already submitted
    new CancelOrder(orderId, 'customer changed their mind'),
    new CancelOrder(orderId, 'clicked twice'), // refused: already cancelled
  ];
}

/** Sends each command, printing what it did or why it was refused. */
export async function runCommands(commands: object[], execute: (command: object) => Promise<CommandResult>): Promise<void> {
  console.log('Commands');
  for (const command of commands) {
    try {
      const result = await execute(command);
      console.log(`  ✓ ${command.constructor.name} → ${result.events.map((e) => e.type).join(', ')} (version ${result.version})`);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      console.log(`  ✗ ${command.constructor.name} refused: ${error.code}: ${error.message}`);
    }
  }
}

/** The order's state as the demo prints it. */
export function printState(order: Order): void {
  console.log('\nState rebuilt from the log');
  console.log(
    JSON.stringify(
      {
        id: order.id,
        customerId: order.customerId,
        status: order.status,
        items: order.items,
        totalCents: order.totalCents,
        submittedAt: order.submittedAt,
        cancellationReason: order.cancellationReason,
        version: order.version,
      },
      null,
      2,
    ),
  );
}
