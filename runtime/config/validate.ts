// Checks a set of entries against a schema: typed values for the schema's keys, one problem per bad or missing
// value, and the entries the schema does not know (the caller decides whether they are someone else's keys).
import { checkValue, type ValueFormat } from './formats.ts';
import { closest, looksSecret, type Entry, type Origin, type Problem } from './problems.ts';
import { findKey, findPrefix, notSupportedReason, type ConfigSchema } from './schema.ts';

export interface CheckedSchema {
  /** Typed value of every schema key that is set or has a default; optional keys left unset are absent. */
  values: Map<string, unknown>;
  /** Entries that are neither a schema key nor under one of its prefixes. */
  unmatched: Entry[];
  problems: Problem[];
}

/** `source` names the file or map in "required key is missing" problems. */
export function checkSchema(schema: ConfigSchema, entries: ReadonlyMap<string, Entry>, source: string): CheckedSchema {
  const values = new Map<string, unknown>();
  const problems: Problem[] = [];
  for (const def of schema.keys) {
    const entry = entries.get(def.name);
    if (entry === undefined || (def.default === undefined && !def.required && entry.value.trim() === '')) {
      if (def.required) {
        problems.push({ key: def.name, origin: { kind: 'absent', source }, message: `required key is missing (${def.doc})` });
      } else if (def.default !== undefined) {
        const checked = checkValue(def.format, def.default);
        if (!checked.ok) throw new Error(`schema bug: default of ${def.name} is invalid: ${checked.message}`);
        values.set(def.name, checked.value);
      }
      continue;
    }
    const checked = checkValue(def.format, entry.value);
    if (checked.ok) values.set(def.name, checked.value);
    else problems.push(valueProblem(entry, checked.message, def.format));
  }
  const unmatched = [...entries.values()].filter((e) => !findKey(schema, e.key) && !findPrefix(schema, e.key));
  return { values, unmatched, problems };
}

/** A bad value, shown with what was written (unless the key looks secret). */
export function valueProblem(entry: Entry, message: string, format?: ValueFormat): Problem {
  const got = looksSecret(entry.key) || format?.quotesBadParts ? '' : `, got ${JSON.stringify(entry.value)}`;
  // People used to INI or shell files write trailing comments; in .properties they are part of the value.
  const hint = /\s[#;!]/.test(entry.value) ? ' ("#" starts a comment only at the beginning of a line)' : '';
  return { key: entry.key, origin: entry.origin, message: `${message}${got}${hint}` };
}

/** "unknown worker key", with a hint for `;` lines, Kafka Connect keys not taken here, and near-misses. */
export function unknownKeyProblem(entry: Entry, schema: ConfigSchema, knownKeys: readonly string[]): Problem {
  let hint = '';
  const notSupported = notSupportedReason(schema, entry.key);
  if (notSupported !== undefined) {
    hint = `; not supported by pika-connect: ${notSupported}`;
  } else if (entry.key.startsWith(';')) {
    hint = '; lines starting with ";" are not comments in .properties files, use "#"';
  } else {
    const guess = closest(entry.key, knownKeys);
    if (guess !== undefined) hint = `; did you mean ${guess}?`;
  }
  return { key: entry.key, origin: entry.origin, message: `unknown ${schema.title} key${hint}` };
}

/** Entries of a caller-given map, in its order. */
export function mapEntries(props: Record<string, string>, source: string): Map<string, Entry> {
  const origin: Origin = { kind: 'map', source };
  return new Map(Object.entries(props).map(([key, value]) => [key, { key, value: String(value), origin }]));
}

/** Puts environment entries over file entries (a key from the environment keeps the variable as its origin). */
export function overlay(entries: ReadonlyMap<string, Entry>, overrides: readonly Entry[]): Map<string, Entry> {
  const merged = new Map(entries);
  for (const e of overrides) merged.set(e.key, e);
  return merged;
}

export function propsOf(entries: ReadonlyMap<string, Entry>): Record<string, string> {
  return Object.fromEntries([...entries.values()].map((e) => [e.key, e.value]));
}
