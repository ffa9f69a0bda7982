// In-memory data of one Pika DB: the ground truth that tests compare a replica/consumer against, and
// the source of full-sync dumps. Keys, fields and members are binary; they are held as 'latin1'
// strings (one char per byte, so ordering by `<` equals byte order, like RocksDB's comparator).

export interface StreamId { ms: bigint; seq: bigint }
export interface StreamEntry { id: StreamId; fields: Buffer[] }

export type Value =
  | { type: 'string'; value: Buffer }
  | { type: 'hash'; fields: Map<string, Buffer> }
  | { type: 'list'; items: Buffer[] }
  | { type: 'set'; members: Set<string> }
  | { type: 'zset'; scores: Map<string, number> }
  | { type: 'stream'; entries: StreamEntry[]; lastId: StreamId };

export type ValueType = Value['type'];

export interface Entry {
  value: Value;
  /** Absolute expiry in unix milliseconds; undefined = no TTL. */
  expireAtMs?: number;
}

export class WrongTypeError extends Error {
  constructor() {
    super('WRONGTYPE Operation against a key holding the wrong kind of value');
  }
}

export const bytesToKey = (b: Buffer): string => b.toString('latin1');
export const keyToBytes = (k: string): Buffer => Buffer.from(k, 'latin1');

export class Keyspace {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly nowMs: () => number) {}

  /** Live entry or undefined (expired entries are removed lazily, never binlogged — as in Pika). */
  get(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expireAtMs !== undefined && entry.expireAtMs <= this.nowMs()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  getTyped<T extends ValueType>(key: string, type: T): Extract<Value, { type: T }> | undefined {
    const entry = this.get(key);
    if (!entry) return undefined;
    if (entry.value.type !== type) throw new WrongTypeError();
    return entry.value as Extract<Value, { type: T }>;
  }

  /** Existing value of `type`, or a fresh empty one stored under `key`. */
  getOrCreate<T extends ValueType>(key: string, type: T): Extract<Value, { type: T }> {
    const existing = this.getTyped(key, type);
    if (existing) return existing;
    const value = emptyValue(type) as Extract<Value, { type: T }>;
    this.entries.set(key, { value });
    return value;
  }

  put(key: string, value: Value, expireAtMs?: number): void {
    this.entries.set(key, expireAtMs === undefined ? { value } : { value, expireAtMs });
  }

  delete(key: string): boolean {
    const existed = this.get(key) !== undefined;
    this.entries.delete(key);
    return existed;
  }

  /** Drops containers that became empty (Redis/Pika semantics: empty hash/list/set/zset = no key). */
  dropIfEmpty(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    const v = entry.value;
    const empty =
      (v.type === 'hash' && v.fields.size === 0) ||
      (v.type === 'list' && v.items.length === 0) ||
      (v.type === 'set' && v.members.size === 0) ||
      (v.type === 'zset' && v.scores.size === 0);
    if (empty) this.entries.delete(key);
  }

  flush(): void {
    this.entries.clear();
  }

  /** Live keys in byte order. */
  keys(): string[] {
    return [...this.entries.keys()].filter((k) => this.get(k) !== undefined).sort(compareKeys);
  }

  /** Deep copy of every live entry, keyed by latin1 key, in byte order. */
  snapshot(): Map<string, Entry> {
    const out = new Map<string, Entry>();
    for (const key of this.keys()) out.set(key, cloneEntry(this.entries.get(key)!));
    return out;
  }
}

export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function emptyValue(type: ValueType): Value {
  switch (type) {
    case 'string': return { type, value: Buffer.alloc(0) };
    case 'hash': return { type, fields: new Map() };
    case 'list': return { type, items: [] };
    case 'set': return { type, members: new Set() };
    case 'zset': return { type, scores: new Map() };
    case 'stream': return { type, entries: [], lastId: { ms: 0n, seq: 0n } };
  }
}

function cloneEntry(entry: Entry): Entry {
  const v = entry.value;
  let value: Value;
  switch (v.type) {
    case 'string': value = { type: 'string', value: Buffer.from(v.value) }; break;
    case 'hash': value = { type: 'hash', fields: new Map([...v.fields].map(([f, b]) => [f, Buffer.from(b)])) }; break;
    case 'list': value = { type: 'list', items: v.items.map((b) => Buffer.from(b)) }; break;
    case 'set': value = { type: 'set', members: new Set(v.members) }; break;
    case 'zset': value = { type: 'zset', scores: new Map(v.scores) }; break;
    case 'stream':
      value = { type: 'stream', entries: v.entries.map((e) => ({ id: { ...e.id }, fields: e.fields.map((f) => Buffer.from(f)) })), lastId: { ...v.lastId } };
      break;
  }
  return entry.expireAtMs === undefined ? { value } : { value, expireAtMs: entry.expireAtMs };
}
