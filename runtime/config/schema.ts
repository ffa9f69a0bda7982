// Configuration as data (Kafka's ConfigDef): each key's name, format, default and doc in one place. Validation,
// the Markdown docs and a future REST `validate` endpoint all read these tables.
import type { ValueFormat } from './formats.ts';

export interface ConfigKeyDef {
  readonly name: string;
  readonly format: ValueFormat;
  /**
   * Default as it would be written in the file; it goes through the same format as a file value.
   * Absent: the key is optional and stays unset (an empty value in the file also means unset), unless `required`.
   */
  readonly default?: string;
  readonly required?: boolean;
  readonly doc: string;
}

/** Keys under `prefix` are not validated here: they are handed on as a map (e.g. to the Kafka producer). */
export interface PrefixDef {
  /** Ends with a dot, e.g. `producer.`. */
  readonly prefix: string;
  readonly doc: string;
}

/** Kafka Connect keys that pika-connect deliberately does not take, with the reason shown to the user. */
export interface NotSupportedDef {
  /** An exact key, or a prefix ending with a dot. */
  readonly key: string;
  readonly reason: string;
}

export interface ConfigSchema {
  /** Used in messages and docs, e.g. "worker". */
  readonly title: string;
  readonly keys: readonly ConfigKeyDef[];
  readonly prefixes: readonly PrefixDef[];
  readonly notSupported?: readonly NotSupportedDef[];
}

export function notSupportedReason(schema: ConfigSchema, name: string): string | undefined {
  return schema.notSupported?.find((n) => (n.key.endsWith('.') ? name.startsWith(n.key) : n.key === name))?.reason;
}

export function findKey(schema: ConfigSchema, name: string): ConfigKeyDef | undefined {
  return schema.keys.find((k) => k.name === name);
}

/** The pass-through prefix a key falls under (a key defined exactly is never under a prefix). */
export function findPrefix(schema: ConfigSchema, name: string): PrefixDef | undefined {
  if (findKey(schema, name)) return undefined;
  return schema.prefixes.find((p) => name.startsWith(p.prefix) && name.length > p.prefix.length);
}

/** Map of `prefix.rest` → `rest` for every key under `prefix`. */
export function stripPrefix(props: Record<string, string>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(props)) {
    if (key.startsWith(prefix) && key.length > prefix.length) out[key.slice(prefix.length)] = value;
  }
  return out;
}
