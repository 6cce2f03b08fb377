import { exploreAggregate } from '@tributary/core';
import { TopicLayout } from '@tributary/kafka';
import { EventTopic } from '@tributary/avro';
import { TributaryConfig } from './tributary-config';

/** The events topic of each configured aggregate, with the event classes written to it today. */
export function eventTopicsOf(config: TributaryConfig): EventTopic[] {
  // Partitions do not change topic names; the layout wants a number.
  const layout = new TopicLayout({ app: config.app, prefix: config.prefix, partitions: 1 });
  return config.aggregates.map((aggregate) => {
    const model = exploreAggregate(aggregate);
    return { topic: layout.events(model.type), eventClasses: model.eventClasses };
  });
}
