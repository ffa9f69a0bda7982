// A seeded history of Pika writes for pika-gen, with its ground truth: what a reader must find live in the
// resulting dump. The history has the churn a real Pika leaves behind: overwritten strings in older SSTs,
// RocksDB deletes, collections deleted by a count-0 meta, rewritten collections whose older version's records
// are still there, popped list elements outside the left/right bounds, deleted fields as tombstones, orphan data
// records without a meta, expired keys, 4.0.0-style second timestamps, and HyperLogLog strings.

import { GenInput, GenFlag, type GenTypeName } from '../../../fixtures/rocksdb-gen/input-stream.ts';
import { seededRandom } from '../../../helpers/random.ts';

export type Expected =
  | { type: 'string'; value: string; expireAtMs: number | null; hyperloglog: boolean }
  | { type: 'hash' | 'set' | 'zset' | 'list' | 'stream'; expireAtMs: number | null; items: string[] };

/** Ground truth keyed by hex key. Element lists: hash `field=value`, set `member`, zset `member=score`,
 *  list elements in order, stream `ms-seq:f,v,…` (all hex), sorted except for lists and streams. */
export type ExpectedDump = Map<string, Expected>;

const hex = (b: Buffer): string => b.toString('hex');

export function scoreText(score: number): string {
  return Object.is(score, -0) ? '-0' : String(score);
}

/** Deterministic PRNG (mulberry32). */
export const prng = seededRandom;

export interface ScenarioOptions {
  layout: 'floyd' | 'blackwidow';
  seed: number;
  /** Liveness instant the reader will use. */
  nowMs: number;
  instances?: number;
  /** Keys per type (default 60). */
  keysPerType?: number;
}

export interface Scenario {
  input: GenInput;
  expected: ExpectedDump;
  /** Instances (Floyd numbers / Blackwidow names) whose tail stays in the WAL. */
  walTail: string[];
}

const LIST_ORIGIN = 1n << 62n;

/** Raw data-record key of a collection element, as the layout encodes it (for tombstones). */
function dataKey(layout: 'floyd' | 'blackwidow', key: Buffer, version: bigint, tail: Buffer): Buffer {
  if (layout === 'blackwidow') {
    const head = Buffer.alloc(4);
    head.writeUInt32LE(key.length);
    const v = Buffer.alloc(4);
    v.writeInt32LE(Number(version));
    return Buffer.concat([head, key, v, tail]);
  }
  const escaped: number[] = [];
  for (const b of key) {
    escaped.push(b);
    if (b === 0) escaped.push(1);
  }
  const v = Buffer.alloc(8);
  v.writeBigUInt64LE(version);
  return Buffer.concat([Buffer.alloc(8), Buffer.from(escaped), Buffer.alloc(2), v, tail, Buffer.alloc(16)]);
}

export function buildScenario(options: ScenarioOptions): Scenario {
  const rnd = prng(options.seed);
  const floyd = options.layout === 'floyd';
  const instances = floyd ? options.instances ?? 3 : 1;
  const n = options.keysPerType ?? 60;
  const input = new GenInput();
  const expected: ExpectedDump = new Map();
  const int = (max: number): number => Math.floor(rnd() * max);
  const bytes = (len: number): Buffer => Buffer.from(Array.from({ length: len }, () => int(256)));
  // Seconds-granular times: Blackwidow stores seconds.
  const future = (): number => (Math.floor(options.nowMs / 1000) + 3600 + int(86400)) * 1000;
  const past = (): number => (Math.floor(options.nowMs / 1000) - 1 - int(86400)) * 1000;
  const ttl = (): { live: boolean; etimeMs: number } => {
    const r = rnd();
    if (r < 0.6) return { live: true, etimeMs: 0 };
    if (r < 0.85) return { live: true, etimeMs: future() };
    return { live: false, etimeMs: past() };
  };
  const keyFor = (type: string, i: number): Buffer => {
    const base = Buffer.from(`${type}:${i}:`, 'latin1');
    switch (i % 5) {
      case 0: return Buffer.concat([base, Buffer.of(0)]); // 0x00 at the end
      case 1: return Buffer.concat([base, Buffer.of(0, 0xff, 0, 1), bytes(3)]); // 0x00 inside
      case 2: return Buffer.concat([base, bytes(int(40))]);
      default: return base;
    }
  };
  const version = (generation: number): bigint =>
    floyd ? BigInt(options.nowMs - 10_000_000) + BigInt(generation) : BigInt(Math.floor(options.nowMs / 1000) - 100_000 + generation);
  const collectionTypes: GenTypeName[] = floyd ? ['hash', 'set', 'zset', 'list', 'stream'] : ['hash', 'set', 'zset', 'list'];

  for (let inst = 0; inst < instances; inst++) {
    const round = (): void => void input.flush();
    if (floyd) input.selectInstance(inst);
    const mine = (i: number): boolean => i % instances === inst;

    // ---- strings ----
    for (let i = 0; i < n; i++) {
      if (!mine(i)) continue;
      const key = keyFor('s', i);
      const old = bytes(int(30));
      input.string(key, old, { etimeMs: 0 });
      if (i % 7 === 3) {
        input.deleteKey('string', key); // DEL: a RocksDB tombstone over the older value
        continue;
      }
      const { live, etimeMs } = ttl();
      const value = i % 11 === 0 ? Buffer.alloc(0) : i % 23 === 1 ? bytes(100_000) : bytes(int(300));
      const seconds = floyd && i % 13 === 5;
      const hll = floyd && i % 17 === 6;
      const flags = (seconds ? GenFlag.seconds : 0) | (hll ? GenFlag.hyperloglog : 0);
      input.string(key, value, { etimeMs, ctimeMs: options.nowMs, flags });
      if (live) expected.set(hex(key), { type: 'string', value: hex(value), expireAtMs: etimeMs || null, hyperloglog: hll });
    }
    round();

    // ---- collections ----
    for (const type of collectionTypes) {
      for (let i = 0; i < n; i++) {
        if (!mine(i)) continue;
        const key = keyFor(type, i);
        const size = i % 31 === 7 ? 1000 + int(1000) : int(12) + 1;
        // An older generation that the newer meta makes stale (or that stays current for every 4th key).
        const rewrite = i % 4 !== 0;
        const gen1 = writeCollection(type, key, version(1), size, { etimeMs: 0, flags: 0 }, rewrite ? undefined : expected);
        if (!rewrite) {
          if (i % 8 === 0) deleteOneElement(type, key, version(1), gen1);
          continue;
        }
        if (i % 9 === 2) {
          // DEL of a collection: meta count 0 under a new version, old records left behind.
          writeMetaOnlyDeleted(type, key, version(2));
          continue;
        }
        const t = type === 'stream' ? { live: true, etimeMs: 0 } : ttl();
        const seconds = floyd && i % 13 === 5 && type !== 'stream';
        writeCollection(type, key, version(2), i % 29 === 3 ? 0 : size, { etimeMs: t.etimeMs, flags: seconds ? GenFlag.seconds : 0 }, t.live ? expected : undefined);
      }
      round();
    }
    // Orphans: data records whose key has no meta at all.
    for (const type of collectionTypes) {
      writeCollection(type, Buffer.from(`orphan:${type}:${inst}`), version(1), 3, { etimeMs: 0, flags: GenFlag.noMeta }, undefined);
    }
    // Older SSTs into L2 (some ranges only on odd instances), later rounds stay in L0; the last instance keeps
    // its final round in the WAL.
    if (inst % 2 === 1) {
      const at = (s: string): Buffer => (floyd ? Buffer.concat([Buffer.alloc(8), Buffer.from(s)]) : Buffer.from(s));
      input.compact({ cf: 0, level: 2, begin: at('hash'), end: at('set') });
    } else input.compact({ level: 2 });
    for (let i = 0; i < n; i++) {
      if (!mine(i) || i % 2 === 1) continue;
      const key = keyFor('late', i);
      const value = bytes(int(50));
      input.string(key, value);
      expected.set(hex(key), { type: 'string', value: hex(value), expireAtMs: null, hyperloglog: false });
      writeCollection('hash', keyFor('late-hash', i), version(3), 1 + int(5), { etimeMs: 0, flags: 0 }, expected);
    }
    if (inst !== instances - 1) round();
  }
  const walTail = floyd ? [String(instances - 1)] : ['strings'];
  return { input, expected, walTail };

  function writeMetaOnlyDeleted(type: GenTypeName, key: Buffer, v: bigint): void {
    if (type === 'list') input.list({ key, version: v, count: 0, left: LIST_ORIGIN, right: LIST_ORIGIN + 1n }, []);
    else if (type === 'stream') input.deleteKey('stream', key); // XDEL of the last entry keeps the key; DEL removes the meta
    else if (type === 'hash') input.hash({ key, version: v, count: 0 }, []);
    else if (type === 'set') input.set({ key, version: v, count: 0 }, []);
    else input.zset({ key, version: v, count: 0 }, []);
  }

  /** Writes a collection generation; records its content in `into` when given. Returns element tails. */
  function writeCollection(type: GenTypeName, key: Buffer, v: bigint, size: number, t: { etimeMs: number; flags: number }, into: ExpectedDump | undefined): Buffer[] {
    const tails: Buffer[] = [];
    const h = { key, version: v, etimeMs: t.etimeMs, ctimeMs: options.nowMs, flags: t.flags };
    const e = (items: string[]): void => {
      if (into && size > 0) into.set(hex(key), { type: type as 'hash', expireAtMs: t.etimeMs || null, items });
    };
    switch (type) {
      case 'hash': {
        const fields = new Map<string, Buffer>();
        for (let j = 0; j < size; j++) fields.set(hex(Buffer.concat([Buffer.from(`f${j}`), bytes(int(3))])), j % 5 === 0 ? Buffer.alloc(0) : bytes(int(60)));
        input.hash(h, [...fields].map(([f, val]) => [Buffer.from(f, 'hex'), val] as [Buffer, Buffer]));
        e([...fields].map(([f, val]) => `${f}=${hex(val)}`).sort());
        for (const f of fields.keys()) tails.push(Buffer.from(f, 'hex'));
        break;
      }
      case 'set': {
        const members = new Set<string>();
        for (let j = 0; j < size; j++) members.add(hex(j % 6 === 0 ? Buffer.concat([Buffer.of(0), bytes(int(5))]) : bytes(1 + int(20))));
        if (members.size < size && size > 0) members.add(hex(Buffer.from(`m${size}`)));
        input.set(h, [...members].map((m) => Buffer.from(m, 'hex')));
        e([...members].sort());
        for (const m of members) tails.push(Buffer.from(m, 'hex'));
        break;
      }
      case 'zset': {
        const special = [Infinity, -Infinity, -0, 0, 5e-324, -1.5, 0.1, 1e300, 2 ** 53 + 2];
        const members = new Map<string, number>();
        for (let j = 0; j < size; j++) members.set(hex(Buffer.concat([Buffer.from(`z${j}`), bytes(int(3))])), j < special.length ? special[j]! : (rnd() - 0.5) * 1e6);
        input.zset(h, [...members].map(([m, s]) => [Buffer.from(m, 'hex'), s] as [Buffer, number]));
        e([...members].map(([m, s]) => `${m}=${scoreText(s)}`).sort());
        for (const m of members.keys()) tails.push(Buffer.from(m, 'hex'));
        break;
      }
      case 'list': {
        // Elements strictly between left and right; records outside the bounds are popped leftovers.
        const left = LIST_ORIGIN - BigInt(int(100));
        const items = Array.from({ length: size }, () => bytes(int(40)));
        const records: [bigint, Buffer][] = items.map((item, j) => [left + 1n + BigInt(j), item]);
        records.push([left, Buffer.from('popped-left')], [left + BigInt(size) + 1n, Buffer.from('popped-right')]);
        input.list({ ...h, count: size, left, right: left + BigInt(size) + 1n }, records);
        e(items.map(hex));
        for (const [index] of records.slice(0, size)) {
          const b = Buffer.alloc(8);
          b.writeBigUInt64LE(index);
          tails.push(b);
        }
        break;
      }
      case 'stream': {
        const entries = Array.from({ length: size }, (_, j) => ({
          ms: 1_700_000_000_000n + BigInt(j * 3 + int(3)),
          seq: BigInt(int(2)),
          fields: [Buffer.from('f'), bytes(int(20)), Buffer.concat([Buffer.of(0), bytes(2)]), bytes(int(10))],
        }));
        input.stream({ key, version: v, flags: t.flags }, entries);
        e(entries.map((x) => `${x.ms}-${x.seq}:${x.fields.map(hex).join(',')}`));
        for (const x of entries) {
          const b = Buffer.alloc(16);
          b.writeBigUInt64BE(x.ms);
          b.writeBigUInt64BE(x.seq, 8);
          tails.push(b);
        }
        break;
      }
    }
    return tails;
  }

  /** HDEL/SREM/ZREM-like removal: a tombstone on one data record and a meta with count − 1. */
  function deleteOneElement(type: GenTypeName, key: Buffer, v: bigint, tails: Buffer[]): void {
    if (type !== 'hash' && type !== 'set' || tails.length < 2) return;
    const victim = tails[0]!;
    input.rawDelete(type, options.layout === 'floyd' && type === 'set' ? 2 : 1, dataKey(options.layout, key, v, victim));
    const exp = expected.get(hex(key));
    if (!exp || exp.type === 'string') return;
    const items = exp.items.filter((it) => it.split('=')[0] !== hex(victim));
    exp.items = items;
    // Rewrite the meta with the new count and no elements (keeps the version).
    if (type === 'hash') input.hash({ key, version: v, etimeMs: exp.expireAtMs ?? 0, ctimeMs: options.nowMs, count: items.length }, []);
    else input.set({ key, version: v, etimeMs: exp.expireAtMs ?? 0, ctimeMs: options.nowMs, count: items.length }, []);
  }
}
