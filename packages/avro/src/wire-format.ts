/*
 * The Confluent wire format: magic byte 0, the schema id as a 4-byte
 * big-endian integer, then the Avro binary value. (Apicurio's own serdes write
 * 8-byte ids; Tributary never does.)
 */

export const MAGIC_BYTE = 0;
export const HEADER_LENGTH = 5;

/** Frames Avro bytes with the magic byte and schema id. */
export function frame(schemaId: number, avro: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(HEADER_LENGTH + avro.length);
  framed[0] = MAGIC_BYTE;
  framed.writeInt32BE(schemaId, 1);
  framed.set(avro, HEADER_LENGTH);
  return framed;
}

/** The schema id and the Avro bytes, or undefined when the bytes are not framed. */
export function unframe(bytes: Uint8Array): { schemaId: number; avro: Buffer } | undefined {
  if (bytes.length < HEADER_LENGTH || bytes[0] !== MAGIC_BYTE) return undefined;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { schemaId: buffer.readInt32BE(1), avro: buffer.subarray(HEADER_LENGTH) };
}
