import type { Converter, ConverterPlugin } from '../api/converter.ts';
import { ConnectError } from '../api/errors.ts';
import { inferConnectSchema } from './connect-schema.ts';

/**
 * Kafka Connect's JsonConverter. `schemas.enable=true` wraps every value in the `{schema, payload}` envelope with a
 * Connect schema inferred from the value; `false` writes plain JSON. Buffers are written as base64 strings, as
 * Kafka Connect does for BYTES.
 */
export class JsonConverter implements Converter {
  private schemasEnable = true;

  configure(config: Record<string, string>): void {
    const v = config['schemas.enable'];
    if (v !== undefined && v !== 'true' && v !== 'false') {
      throw new ConnectError(`schemas.enable must be true or false, got "${v}"`, { code: 'CONFIG', stage: 'config' });
    }
    this.schemasEnable = v !== 'false';
  }

  fromConnectData(_topic: string, data: unknown): Buffer | null {
    if (data === null || data === undefined) return null;
    return jsonBytes(this.schemasEnable ? { schema: inferConnectSchema(data), payload: data } : data);
  }

  toConnectData(_topic: string, bytes: Buffer | null): unknown {
    if (!bytes) return null;
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    if (this.schemasEnable && parsed !== null && typeof parsed === 'object' && 'payload' in parsed) {
      return (parsed as { payload: unknown }).payload;
    }
    return parsed;
  }
}

/** JSON of `value` with Buffers as base64 strings, as Kafka Connect writes BYTES. */
export function jsonBytes(value: unknown): Buffer {
  // A replacer turns off V8's fast JSON path, so the plain serialisation comes first. Every object the replacer
  // would change (a Buffer, after its toJSON, or any `{type: 'Buffer', data: [...]}`) prints `"type":"Buffer"`
  // unescaped, which a string's escaped quotes never do: only then is the value serialised again with it.
  const plain = JSON.stringify(value);
  return Buffer.from(plain.includes(BUFFER_MARK) ? JSON.stringify(value, bufferAsBase64) : plain);
}

const BUFFER_MARK = '"type":"Buffer"';

function bufferAsBase64(this: unknown, _key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data).toString('base64');
  }
  return value;
}

export const jsonConverterPlugin: ConverterPlugin = {
  names: ['org.apache.kafka.connect.json.JsonConverter', 'json'],
  create: () => new JsonConverter(),
};
