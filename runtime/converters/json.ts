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
  // A replacer turns off V8's fast JSON path: only pay for it when something needs replacing.
  return Buffer.from(mayHoldBuffers(value, 0) ? JSON.stringify(value, bufferAsBase64) : JSON.stringify(value));
}

const SCAN_DEPTH_LIMIT = 32;

/**
 * False only when `value` certainly holds nothing `bufferAsBase64` would change: no Buffer/typed array, no
 * `{type: 'Buffer', data: [...]}` object and no `toJSON` (which could produce one). Deep values count as "may".
 */
function mayHoldBuffers(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (depth > SCAN_DEPTH_LIMIT || ArrayBuffer.isView(value)) return true;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return true;
  if (Array.isArray(value)) {
    for (const item of value) if (mayHoldBuffers(item, depth + 1)) return true;
    return false;
  }
  if ((value as { type?: unknown }).type === 'Buffer') return true;
  for (const key in value) {
    if (mayHoldBuffers((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

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
