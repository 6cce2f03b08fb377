import { EventData, EventEnvelope } from '@tributary/core';
import { IHeaders } from 'kafkajs';

/** Header names of Tributary records. Envelope fields travel as headers so payloads stay pure. */
export const HEADER = {
  eventId: 'tributary.event-id',
  type: 'tributary.type',
  schemaVersion: 'tributary.schema-version',
  aggregateType: 'tributary.aggregate-type',
  aggregateId: 'tributary.aggregate-id',
  sequence: 'tributary.sequence',
  occurredAt: 'tributary.occurred-at',
  correlationId: 'tributary.correlation-id',
  causationId: 'tributary.causation-id',
  contentType: 'tributary.content-type',
  commandId: 'tributary.command-id',
  commandType: 'tributary.command-type',
  replyTo: 'tributary.reply-to',
  expectedVersion: 'tributary.expected-version',
  request: 'tributary.request',
  /** In an `outcome` request: the command id asked about. */
  queriedCommandId: 'tributary.queried-command-id',
  metadataPrefix: 'tributary.meta.',
} as const;

/** Headers carrying an event's envelope, all but its payload. */
export function envelopeHeaders(event: Omit<EventEnvelope<unknown>, 'payload'>, contentType: string): IHeaders {
  const headers: IHeaders = {
    [HEADER.eventId]: event.eventId,
    [HEADER.type]: event.type,
    [HEADER.schemaVersion]: String(event.schemaVersion),
    [HEADER.aggregateType]: event.aggregateType,
    [HEADER.aggregateId]: event.aggregateId,
    [HEADER.sequence]: String(event.sequence),
    [HEADER.occurredAt]: event.occurredAt.toISOString(),
    [HEADER.correlationId]: event.correlationId,
    [HEADER.causationId]: event.causationId,
    [HEADER.contentType]: contentType,
  };
  for (const [key, value] of Object.entries(event.metadata)) headers[`${HEADER.metadataPrefix}${key}`] = value;
  return headers;
}

/**
 * One header as a string. kafkajs gives a Buffer, or an array of them when a key
 * repeats; the last value wins, as it would for a map.
 */
export function readHeader(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  return last === undefined ? undefined : Buffer.isBuffer(last) ? last.toString('utf8') : String(last);
}

/** The `tributary.meta.*` headers as a metadata map. */
export function readMetadata(headers: IHeaders | undefined): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const name of Object.keys(headers ?? {})) {
    if (name.startsWith(HEADER.metadataPrefix)) metadata[name.slice(HEADER.metadataPrefix.length)] = readHeader(headers, name)!;
  }
  return metadata;
}

/** Writes metadata as `tributary.meta.*` headers. */
export function metadataHeaders(metadata: Readonly<Record<string, string>>): IHeaders {
  return Object.fromEntries(Object.entries(metadata).map(([key, value]) => [`${HEADER.metadataPrefix}${key}`, value]));
}

/** An event envelope rebuilt from a record's headers and its decoded payload. */
export function envelopeFromHeaders(headers: IHeaders | undefined, payload: EventData): EventEnvelope<EventData> {
  const required = (name: string) => {
    const value = readHeader(headers, name);
    if (value === undefined) throw new Error(`header ${name} is missing`);
    return value;
  };
  return {
    eventId: required(HEADER.eventId),
    type: required(HEADER.type),
    schemaVersion: Number(required(HEADER.schemaVersion)),
    aggregateType: required(HEADER.aggregateType),
    aggregateId: required(HEADER.aggregateId),
    sequence: Number(required(HEADER.sequence)),
    occurredAt: new Date(required(HEADER.occurredAt)),
    correlationId: required(HEADER.correlationId),
    causationId: required(HEADER.causationId),
    metadata: readMetadata(headers),
    payload,
  };
}
