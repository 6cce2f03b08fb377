import { EventData } from '../events/event-envelope';
import { TributaryError } from '../errors/tributary.error';
import { SerializationContext, Serializer, describeRecord } from './serializer';

/** Bytes that should hold a JSON payload do not. */
export class MalformedPayloadError extends TributaryError {
  static readonly code = 'MALFORMED_PAYLOAD';
  constructor(context: SerializationContext, cause: unknown) {
    super(
      `The ${context.type} v${context.schemaVersion} payload at ${describeRecord(context)} is not a JSON object: ` +
        `${cause instanceof Error ? cause.message : String(cause)}`,
      { code: MalformedPayloadError.code, cause },
    );
  }
}

/** Payloads as UTF-8 JSON: the default, needing no schema registry. */
export class JsonSerializer implements Serializer {
  readonly contentType = 'application/json';

  serialize(payload: EventData): Uint8Array {
    return Buffer.from(JSON.stringify(payload), 'utf8');
  }

  deserialize(bytes: Uint8Array, context: SerializationContext): EventData {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    } catch (error) {
      throw new MalformedPayloadError(context, error);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new MalformedPayloadError(context, new Error(`found ${Array.isArray(parsed) ? 'an array' : String(parsed)}`));
    }
    return parsed as EventData;
  }
}
