// Confluent's schema-registry wire format, shared by every Confluent serializer:
//
//   byte 0      magic byte 0x00
//   bytes 1-4   schema id, int32 big-endian (the id the registry assigned)
//   bytes 5-    the payload: for Avro, the plain Avro binary encoding of the value (no container, no header)
import { ConnectError } from '../../api/errors.ts';

export const MAGIC_BYTE = 0;
export const HEADER_SIZE = 5;

export function encodeFramed(schemaId: number, payload: Buffer): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0x7fffffff) {
    throw new RangeError(`schema id must be an int32 >= 0, got ${schemaId}`);
  }
  const framed = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  framed[0] = MAGIC_BYTE;
  framed.writeInt32BE(schemaId, 1);
  payload.copy(framed, HEADER_SIZE);
  return framed;
}

export interface Framed {
  schemaId: number;
  payload: Buffer;
}

/** Splits framed bytes; throws a ConnectError (stage convert) when they are not in Confluent's format. */
export function decodeFramed(bytes: Buffer, topic: string): Framed {
  if (bytes.length < HEADER_SIZE) {
    throw new ConnectError(`topic ${topic}: ${bytes.length} byte(s) are too short for the Confluent wire format (magic byte + 4-byte schema id)`, {
      code: 'AVRO_WIRE_FORMAT', stage: 'convert',
    });
  }
  if (bytes[0] !== MAGIC_BYTE) {
    throw new ConnectError(`topic ${topic}: unknown magic byte 0x${bytes[0]!.toString(16).padStart(2, '0')} (Confluent wire format starts with 0x00); not written by a schema-registry serializer?`, {
      code: 'AVRO_WIRE_FORMAT', stage: 'convert',
    });
  }
  return { schemaId: bytes.readInt32BE(1), payload: bytes.subarray(HEADER_SIZE) };
}
