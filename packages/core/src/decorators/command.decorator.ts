import { getMetadataStorage } from '../metadata/metadata-storage';

/**
 * Gives a command class the persisted name it travels under when commands cross
 * a process boundary, as they do through Kafka. The in-process command bus does
 * not need it. Like event names, it is explicit so renaming the class is safe.
 *
 * @example
 * ```ts
 * @Command('AddItem')
 * export class AddItem { … }
 * ```
 */
export function Command(name: string): ClassDecorator {
  return (target) => {
    getMetadataStorage().addCommand({ target, name });
  };
}
