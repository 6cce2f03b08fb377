import { CommandRegistry, DomainModel, MissingTargetAggregateIdError } from '@tributary/core';

/** The registry of every command the domain handles; over Kafka each needs a `@Command` name and a target id. */
export function commandRegistryFor(domain: DomainModel, component: string): CommandRegistry {
  const registry = new CommandRegistry();
  for (const commandClass of domain.commandClasses) {
    registry.register(commandClass, component);
    const { model, binding } = domain.route(Object.create(commandClass.prototype))!;
    if (!binding.targetIdProperty) {
      // Kafka routes a command to its aggregate's partition before any handler runs.
      throw new MissingTargetAggregateIdError(commandClass.name, `${model.target.name}.${binding.method}`);
    }
  }
  return registry;
}
