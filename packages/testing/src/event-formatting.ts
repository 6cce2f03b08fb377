import { EventRegistry } from '@tributary/core';

/** One event per line, numbered, as `Type v1 {"field":"value"}`: what failure messages show. */
export function formatEvents(events: readonly object[], registry: EventRegistry): string {
  if (events.length === 0) return '  (no events)';
  return events.map((event, index) => `  ${index + 1}. ${formatEvent(event, registry)}`).join('\n');
}

export function formatEvent(event: object, registry: EventRegistry): string {
  const declared = registry.describe(event);
  const name = declared ? `${declared.type} v${declared.version}` : `${event?.constructor?.name ?? typeof event} (not a declared event)`;
  return `${name} ${JSON.stringify(declared ? registry.toData(event) : event)}`;
}

export function formatError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `  ${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${error.message}`;
  }
  return `  ${String(error)}`;
}
