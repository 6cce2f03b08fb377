import { createHash } from 'node:crypto';
import { AggregateModel } from '../aggregate/aggregate-model';
import { AggregateRoot } from '../aggregate/aggregate-root';
import { getMetadataStorage } from '../metadata/metadata-storage';

/**
 * The state-shape version of an aggregate's snapshots: the one declared with
 * `@Aggregate(type, { shapeVersion })`, or else one derived from what decides
 * the state's shape: the aggregate's fields (as a fresh instance has them), its
 * appliers and the event types and versions they take. Any change to those gives
 * another version, so a snapshot is never read into a shape it was not written
 * from; the price is that a harmless change also drops the snapshots, which are
 * rebuilt from events.
 */
export function shapeVersionOf<T extends AggregateRoot>(model: AggregateModel<T>): string {
  const declared = getMetadataStorage().findAggregate(model.target)?.shapeVersion;
  if (declared !== undefined) return declared;
  const fields = Object.keys(new model.target()).sort();
  const appliers = model.eventClasses
    .map((eventClass) => {
      const event = getMetadataStorage().findEvent(eventClass);
      return `${event?.type}@${event?.version}>${model.applierFor(eventClass)}`;
    })
    .sort();
  const digest = createHash('sha256').update(JSON.stringify({ type: model.type, fields, appliers })).digest('hex');
  return `derived-${digest.slice(0, 16)}`;
}
