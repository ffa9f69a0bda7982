/**
 * A Kafka Connect schema (the JSON form JsonConverter puts in its envelope), inferred from a plain value:
 * objects become optional structs, integers int64, other numbers float64, Buffers bytes.
 */
export interface ConnectSchema {
  type: 'struct' | 'string' | 'int64' | 'float64' | 'boolean' | 'bytes' | 'array';
  optional: boolean;
  field?: string;
  fields?: ConnectSchema[];
  items?: ConnectSchema;
}

export function inferConnectSchema(value: unknown, field?: string): ConnectSchema {
  const withField = (s: ConnectSchema): ConnectSchema => (field === undefined ? s : { ...s, field });
  if (value === null || value === undefined) return withField({ type: 'string', optional: true });
  if (Buffer.isBuffer(value)) return withField({ type: 'bytes', optional: true });
  if (Array.isArray(value)) {
    return withField({ type: 'array', optional: true, items: value.length ? inferConnectSchema(value[0]) : { type: 'string', optional: true } });
  }
  switch (typeof value) {
    case 'string': return withField({ type: 'string', optional: true });
    case 'boolean': return withField({ type: 'boolean', optional: true });
    case 'number': return withField({ type: Number.isInteger(value) ? 'int64' : 'float64', optional: true });
    case 'bigint': return withField({ type: 'int64', optional: true });
    case 'object':
      return withField({
        type: 'struct',
        optional: true,
        fields: Object.entries(value as Record<string, unknown>).map(([k, v]) => inferConnectSchema(v, k)),
      });
    default:
      return withField({ type: 'string', optional: true });
  }
}
