// Configuration keys of the event filters, in the shape of the connector's key table
// (connector/pika/source/config.ts) so it can spread FILTER_KEYS into PIKA_SOURCE_KEYS.
//
// Semantics (documented once here; docs and REST validate read `doc`):
// - Every key holds a comma-separated list; an empty value is the same as not setting the key.
// - *.include: when set, only events matching one entry pass that dimension. *.exclude: matching events are
//   dropped. Exclude wins over include. Dimensions combine with AND: an event passes when it passes every one.
// - filter.exclude is the global key deny list (pika-port-kafka's -X), checked first. Its default drops Pika's
//   codis slot-migration bookkeeping keys (`_internal:slotkey:4migrate:*`, `_internal:slottag:4migrate:*`,
//   written when slotmigrate is on; pika-protocol.md §6.4), which pika-port also leaves out. Set it to an empty
//   value to capture them.
// - Key rules skip keyless events (flushdb, flushall): they neither match an exclude nor fail an include, so a
//   flush still reaches consumers of a key subset; drop it with filter.commands.exclude=flushdb,flushall.
// - Key rules see the event's key: one event per key for del/unlink/mset (each decided alone); for other
//   multi-key commands the one key the event carries (rename/smove/rpoplpush: the source; bitop and
//   *store: the destination).
// - The binlog does not say which type a deleted or expiring key had: del, unlink, expire*, persist, rename and
//   flush* have data type "generic", so filter.types.include=hash alone also drops the deletes and expiries of
//   hash keys; add generic to keep them.
// - Command rules apply to binlog events only: snapshot events carry a key's state (their op, e.g. rpush for a
//   list, is how to rebuild it, not what the master ran). Keys, types and DBs apply to snapshot events too.
// - Control events (snapshot-start/end) are never filtered.
// - A filtered event is not sent, but the connector must still advance the committed offset and the master's
//   ack past it (as Kafka Connect commits the offsets of records a transform dropped).
import type { ConfigIssue } from '../../../runtime/api/index.ts';
import { knownOps } from '../events/commands.ts';
import type { PikaDataType } from '../events/event.ts';
import { compileKeyPatternList, type KeyPattern } from './key-patterns.ts';

/** Same shape as the connector's config-table entries. */
export interface FilterKeyDef {
  default?: string;
  required?: boolean;
  doc: string;
  check?: (value: string, config: Record<string, string>) => string | undefined;
}

export const DATA_TYPES: readonly PikaDataType[] = ['string', 'hash', 'list', 'set', 'zset', 'stream', 'generic'];
const MAX_DBS = 8;

export const DEFAULT_GLOBAL_EXCLUDE = '_internal:slotkey:4migrate:*,_internal:slottag:4migrate:*';

const splitNames = (value: string): string[] => value.split(',').map((s) => s.trim().toLowerCase());

function checkKeys(value: string): string | undefined {
  const { problems } = compileKeyPatternList(value);
  return problems.length > 0 ? problems.join('; ') : undefined;
}

function checkNames(what: string, valid: readonly string[]): (value: string) => string | undefined {
  const known = new Set(valid);
  return (value) => {
    const names = splitNames(value);
    if (names.includes('')) return `has an empty ${what} name (two commas in a row, or a trailing comma?): "${value}"`;
    const bad = names.filter((n) => !known.has(n));
    if (bad.length === 0) return undefined;
    return `unknown ${what} ${bad.map((b) => JSON.stringify(b)).join(', ')}; valid: ${valid.join(', ')}`;
  };
}

function checkDbs(value: string): string | undefined {
  const bad = splitNames(value).filter((n) => !/^db\d$/.test(n) || Number(n.slice(2)) >= MAX_DBS);
  return bad.length === 0 ? undefined : `must be a comma-separated list of DB names db0..db${MAX_DBS - 1}, got ${bad.map((b) => JSON.stringify(b)).join(', ')}`;
}

const orEmpty = (check: (value: string) => string | undefined) => (value: string): string | undefined => (value.trim() === '' ? undefined : check(value));

const KEY_SYNTAX = 'patterns: exact key, prefix* , or re:<regex> (escapes \\, \\* \\\\ \\s \\xNN)';
const checkCommands = checkNames('command', knownOps());
const checkTypes = checkNames('data type', DATA_TYPES);

export const FILTER_KEYS: Record<string, FilterKeyDef> = {
  'filter.exclude': {
    default: DEFAULT_GLOBAL_EXCLUDE,
    doc: `global key deny list, checked before every other filter; ${KEY_SYNTAX}. Default: Pika's slot-migration keys; empty = none`,
    check: orEmpty(checkKeys),
  },
  'filter.keys.include': { doc: `only events whose key matches one pattern pass (keyless events such as flushdb are not affected); ${KEY_SYNTAX}`, check: orEmpty(checkKeys) },
  'filter.keys.exclude': { doc: `events whose key matches one pattern are dropped; ${KEY_SYNTAX}`, check: orEmpty(checkKeys) },
  'filter.types.include': { doc: `only events of these data types pass: ${DATA_TYPES.join(', ')} (generic = type-agnostic commands: del, expire*, persist, rename, flushdb…; without it the deletes and expiries of the listed types are dropped too)`, check: orEmpty(checkTypes) },
  'filter.types.exclude': { doc: `events of these data types are dropped: ${DATA_TYPES.join(', ')}`, check: orEmpty(checkTypes) },
  'filter.commands.include': { doc: 'only binlog events of these commands pass (lower or upper case; snapshot events are not affected)', check: orEmpty(checkCommands) },
  'filter.commands.exclude': { doc: 'binlog events of these commands are dropped (e.g. flushdb,flushall; snapshot events are not affected)', check: orEmpty(checkCommands) },
  'filter.dbs.include': { doc: 'only events of these DBs pass (db0,db1,…); unlike pika.dbs the other DBs are still replicated, their offsets advance', check: orEmpty(checkDbs) },
  'filter.dbs.exclude': { doc: 'events of these DBs are dropped (db0,db1,…)', check: orEmpty(checkDbs) },
};

/** Which config key rejected an event: the label for a "filtered records" metric. */
export type FilterReason =
  | 'filter.exclude'
  | 'filter.keys.include'
  | 'filter.keys.exclude'
  | 'filter.types.include'
  | 'filter.types.exclude'
  | 'filter.commands.include'
  | 'filter.commands.exclude'
  | 'filter.dbs.include'
  | 'filter.dbs.exclude';

export const FILTER_REASONS = Object.keys(FILTER_KEYS) as FilterReason[];

/** The parsed rules; undefined = the key is not set (or empty). */
export interface FilterSpec {
  globalExclude: KeyPattern[] | undefined;
  keysInclude: KeyPattern[] | undefined;
  keysExclude: KeyPattern[] | undefined;
  typesInclude: Set<string> | undefined;
  typesExclude: Set<string> | undefined;
  commandsInclude: Set<string> | undefined;
  commandsExclude: Set<string> | undefined;
  dbsInclude: Set<number> | undefined;
  dbsExclude: Set<number> | undefined;
}

/** Every problem of the filter keys (the others are not looked at). */
export function validateFilterConfig(config: Record<string, string>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [key, def] of Object.entries(FILTER_KEYS)) {
    const value = config[key];
    if (value === undefined) continue;
    const problem = def.check?.(value, config);
    if (problem) issues.push({ key, message: problem });
  }
  return issues;
}

/** Parses a config that validateFilterConfig accepted (throws on bad patterns otherwise). */
export function parseFilterSpec(config: Record<string, string>): FilterSpec {
  const raw = (key: string): string | undefined => {
    const value = config[key] ?? FILTER_KEYS[key]!.default;
    return value === undefined || value.trim() === '' ? undefined : value;
  };
  const keys = (key: string): KeyPattern[] | undefined => {
    const value = raw(key);
    if (value === undefined) return undefined;
    const { patterns, problems } = compileKeyPatternList(value);
    if (problems.length > 0) throw new Error(`${key}: ${problems.join('; ')}`);
    return patterns;
  };
  const names = (key: string): Set<string> | undefined => {
    const value = raw(key);
    return value === undefined ? undefined : new Set(splitNames(value));
  };
  const dbs = (key: string): Set<number> | undefined => {
    const set = names(key);
    return set === undefined ? undefined : new Set([...set].map((n) => Number(n.slice(2))));
  };
  return {
    globalExclude: keys('filter.exclude'),
    keysInclude: keys('filter.keys.include'),
    keysExclude: keys('filter.keys.exclude'),
    typesInclude: names('filter.types.include'),
    typesExclude: names('filter.types.exclude'),
    commandsInclude: names('filter.commands.include'),
    commandsExclude: names('filter.commands.exclude'),
    dbsInclude: dbs('filter.dbs.include'),
    dbsExclude: dbs('filter.dbs.exclude'),
  };
}
