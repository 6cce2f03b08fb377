import { AnyClass, getMetadataStorage } from '../metadata/metadata-storage';

/**
 * Binds an aggregate method to a command class. The method decides: it checks the
 * rules against the current state and calls `this.apply(event)` for each fact.
 *
 * On a **static** method it handles a creation command: it returns the new
 * aggregate. On an **instance** method it acts on the aggregate that the
 * command's `@TargetAggregateId` property names.
 *
 * @example
 * ```ts
 * @CommandHandler(CreateOrder)
 * static create(command: CreateOrder): Order {
 *   const order = new Order();
 *   order.apply(new OrderCreated(command.orderId, command.customerId));
 *   return order;
 * }
 *
 * @CommandHandler(SubmitOrder)
 * submit(): void {
 *   if (this.items.size === 0) throw new EmptyOrderError(this.id);
 *   this.apply(new OrderSubmitted(this.id));
 * }
 * ```
 */
export function CommandHandler(command: AnyClass): MethodDecorator {
  return (target, propertyKey) => {
    const isStatic = typeof target === 'function';
    getMetadataStorage().addCommandHandler({
      target: isStatic ? (target as AnyClass) : target.constructor,
      propertyKey: String(propertyKey),
      command,
      isStatic,
    });
  };
}
