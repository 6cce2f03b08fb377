import { DuplicateCommandTypeError, UndeclaredCommandError } from '../errors/configuration.errors';
import { UnknownCommandTypeError } from '../errors/aggregate.errors';
import { EventData } from '../events/event-envelope';
import { fromPlainData, toPlainData } from '../events/plain-data';
import { AnyClass, CommandMetadata, Constructor, getMetadataStorage } from '../metadata/metadata-storage';

/**
 * Maps command classes to their persisted `@Command` names and back, and converts
 * commands to and from JSON-safe data, for transports that carry commands between
 * processes.
 */
export class CommandRegistry {
  private readonly byClass = new Map<AnyClass, CommandMetadata>();
  private readonly byName = new Map<string, CommandMetadata>();

  constructor(commandClasses: Iterable<AnyClass> = []) {
    for (const commandClass of commandClasses) this.register(commandClass, 'CommandRegistry');
  }

  /**
   * Adds a `@Command` class. Throws {@link UndeclaredCommandError} if it has none,
   * {@link DuplicateCommandTypeError} if another class has its name.
   */
  register(commandClass: AnyClass, usedBy: string): CommandMetadata {
    const known = this.byClass.get(commandClass);
    if (known) return known;
    const metadata = getMetadataStorage().findCommand(commandClass);
    if (!metadata || typeof metadata.name !== 'string' || metadata.name.trim() === '') {
      throw new UndeclaredCommandError(commandClass.name, usedBy);
    }
    const rival = this.byName.get(metadata.name);
    if (rival) throw new DuplicateCommandTypeError(metadata.name, rival.target.name, commandClass.name);
    this.byClass.set(commandClass, metadata);
    this.byName.set(metadata.name, metadata);
    return metadata;
  }

  /** The persisted name of a command instance's class, if registered. */
  nameOf(command: object): string | undefined {
    return this.byClass.get(command.constructor)?.name;
  }

  classFor(name: string): Constructor | undefined {
    return this.byName.get(name)?.target as Constructor | undefined;
  }

  toData(command: object): EventData {
    return toPlainData(command);
  }

  fromData(name: string, data: EventData, context: string): object {
    const commandClass = this.classFor(name);
    if (!commandClass) throw new UnknownCommandTypeError(name, context);
    return fromPlainData(commandClass, data);
  }
}
