// Write commands that can appear in a Pika binlog (3.5.x / 4.0.x) and how to read them.
// Built from pika-protocol.md §6.4 and the commands seen in the 4.0.1 and 3.5.5 captures; includes the forms
// Pika rewrites (so verbatim variants from other versions still map). A command missing here is an error for
// the caller: we never guess the meaning of an unknown write.
import type { PikaDataType } from './event.ts';

/**
 * Where the keys are in argv (argv[0] = command name):
 * - 'first': one key at argv[1];
 * - 'each':  every argument is a key (del k1 k2 …) — one event per key;
 * - 'pairs': key/value pairs (mset k1 v1 k2 v2 …) — one event per pair;
 * - 'none':  keyless (flushdb);
 * - number:  one key at that argv index (bitop op dest src…).
 */
export type KeyLayout = 'first' | 'each' | 'pairs' | 'none' | number;

/** How the command sets an expiry; the TTL argument is argv[2] unless stated. */
export type ExpiryKind =
  | 'pksetexat' // absolute unix seconds (4.0.1 PSETEX: milliseconds), 0 = none, < 0 = already expired
  | 'expireat' // absolute unix seconds
  | 'pexpireat' // absolute unix ms
  | 'expire' // relative seconds
  | 'pexpire' // relative ms
  | 'setex' // relative seconds (setex k s v)
  | 'psetex' // relative ms
  | 'set-options'; // set k v [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL …]

export interface CommandSpec {
  dataType: PikaDataType;
  keys: KeyLayout;
  /** Smallest argc (command name included). */
  minArgc: number;
  expiry?: ExpiryKind;
}

const spec = (dataType: PikaDataType, minArgc: number, keys: KeyLayout = 'first', expiry?: ExpiryKind): CommandSpec =>
  expiry ? { dataType, keys, minArgc, expiry } : { dataType, keys, minArgc };

const COMMANDS: Record<string, CommandSpec> = {
  // strings (HyperLogLog and bitmaps are stored as strings by Pika)
  set: spec('string', 3, 'first', 'set-options'),
  setnx: spec('string', 3),
  setex: spec('string', 4, 'first', 'setex'),
  psetex: spec('string', 4, 'first', 'psetex'),
  pksetexat: spec('string', 4, 'first', 'pksetexat'),
  append: spec('string', 3),
  incr: spec('string', 2),
  incrby: spec('string', 3),
  incrbyfloat: spec('string', 3),
  decr: spec('string', 2),
  decrby: spec('string', 3),
  getset: spec('string', 3),
  setrange: spec('string', 4),
  delvx: spec('string', 3), // Pika: delete the key if its value equals argv[2]
  setbit: spec('string', 4),
  mset: spec('string', 3, 'pairs'),
  msetnx: spec('string', 3, 'pairs'),
  bitop: spec('string', 4, 2),
  pfadd: spec('string', 2),
  pfmerge: spec('string', 2),
  // type-agnostic
  del: spec('generic', 2, 'each'),
  unlink: spec('generic', 2, 'each'),
  expire: spec('generic', 3, 'first', 'expire'),
  pexpire: spec('generic', 3, 'first', 'pexpire'),
  expireat: spec('generic', 3, 'first', 'expireat'),
  pexpireat: spec('generic', 3, 'first', 'pexpireat'),
  persist: spec('generic', 2),
  rename: spec('generic', 3),
  renamenx: spec('generic', 3),
  flushdb: spec('generic', 1, 'none'),
  flushall: spec('generic', 1, 'none'),
  // hashes
  hset: spec('hash', 4),
  hsetnx: spec('hash', 4),
  hmset: spec('hash', 4),
  hdel: spec('hash', 3),
  hincrby: spec('hash', 4),
  hincrbyfloat: spec('hash', 4),
  // lists
  lpush: spec('list', 3),
  rpush: spec('list', 3),
  lpushx: spec('list', 3),
  rpushx: spec('list', 3),
  lpop: spec('list', 2),
  rpop: spec('list', 2),
  linsert: spec('list', 5),
  lset: spec('list', 4),
  lrem: spec('list', 4),
  ltrim: spec('list', 4),
  rpoplpush: spec('list', 3),
  // sets
  sadd: spec('set', 3),
  srem: spec('set', 3),
  spop: spec('set', 2),
  smove: spec('set', 4),
  sunionstore: spec('set', 3),
  sinterstore: spec('set', 3),
  sdiffstore: spec('set', 3),
  // sorted sets (GEO is stored as a zset)
  zadd: spec('zset', 4),
  zincrby: spec('zset', 4),
  zrem: spec('zset', 3),
  zremrangebyscore: spec('zset', 4),
  zremrangebyrank: spec('zset', 4),
  zremrangebylex: spec('zset', 4),
  zunionstore: spec('zset', 4),
  zinterstore: spec('zset', 4),
  zpopmax: spec('zset', 2),
  zpopmin: spec('zset', 2),
  geoadd: spec('zset', 5),
  // streams
  xadd: spec('stream', 5),
  xdel: spec('stream', 3),
  xtrim: spec('stream', 4),
};

/** Pika-internal items that carry no data change (pika-protocol.md §6.3, §6.4). */
const INTERNAL_COMMANDS = new Set(['padding', 'dummy']);

/** Looks up a lower-case command name; undefined when unknown. */
export function commandSpec(op: string): CommandSpec | undefined {
  return Object.hasOwn(COMMANDS, op) ? COMMANDS[op] : undefined;
}

export function isInternalCommand(op: string): boolean {
  return INTERNAL_COMMANDS.has(op);
}

/** All known ops (for docs and schema enums). */
export function knownOps(): string[] {
  return Object.keys(COMMANDS);
}
