import { instanceToPlain, plainToInstance } from 'class-transformer';
import { Constructor } from '../metadata/metadata-storage';
import { EventData } from './event-envelope';

/**
 * An instance as JSON-safe data, through class-transformer. The JSON round trip
 * turns Dates into ISO strings here rather than in some store later, so a value
 * that would not survive the wire fails in unit tests already.
 */
export function toPlainData(value: object): EventData {
  return JSON.parse(JSON.stringify(instanceToPlain(value))) as EventData;
}

/** Data back into an instance of the class, nested `@Type`s and dates included. */
export function fromPlainData<T extends object>(target: Constructor<T>, data: EventData): T {
  return plainToInstance(target, data as Record<string, unknown>);
}
