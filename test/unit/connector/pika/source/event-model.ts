// A consumer's view of the Pika topics: snapshot events and then binlog events applied in order onto an empty
// keyspace per DB, compared with the test master's own state. Binlog ops: the ones the full-sync tests write.
import type { PikaEvent } from '../../../../../connector/pika/events/event.ts';
import type { Entry } from '../../../../pika-master/data/keyspace.ts';
import assert from 'node:assert/strict';
import type { PikaMaster } from '../../../../pika-master/index.ts';
import { parseScore } from '../snapshot/event-replay.ts';

export interface ModelKey { type: string; value: unknown; expireAtMs: number | null }
export type DbModel = Map<string, ModelKey>;

const text = (b64: string): string => Buffer.from(b64, 'base64').toString('latin1');

export function applyEvents(models: Map<number, DbModel>, events: PikaEvent[]): void {
  for (const e of events) {
    if (e.event_type === 'control') continue;
    let m = models.get(e.db);
    if (!m) models.set(e.db, (m = new Map()));
    const [key, ...args] = e.args_b64.map(text);
    const get = (type: string, init: () => unknown): any => {
      let k = m!.get(key!);
      if (!k) m!.set(key!, (k = { type, value: init(), expireAtMs: null }));
      if (k.type !== type) throw new Error(`WRONGTYPE ${e.op} on ${key} (${k.type})`);
      return k.value;
    };
    const dropIfEmpty = (): void => {
      const k = m!.get(key!);
      const v = k?.value as { size?: number; length?: number } | undefined;
      if (k && (v?.size === 0 || v?.length === 0)) m!.delete(key!);
    };
    switch (e.op) {
      case 'set':
        m.set(key!, { type: 'string', value: args[0]!, expireAtMs: null });
        break;
      case 'del':
        m.delete(key!);
        break;
      case 'hset': case 'hmset': {
        const h = get('hash', () => new Map());
        for (let i = 0; i < args.length; i += 2) h.set(args[i], args[i + 1]);
        break;
      }
      case 'hdel':
        for (const f of args) get('hash', () => new Map()).delete(f);
        dropIfEmpty();
        break;
      case 'sadd':
        for (const x of args) get('set', () => new Set()).add(x);
        break;
      case 'srem':
        for (const x of args) get('set', () => new Set()).delete(x);
        dropIfEmpty();
        break;
      case 'rpush':
        get('list', () => []).push(...args);
        break;
      case 'lpush':
        for (const x of args) get('list', () => []).unshift(x);
        break;
      case 'zadd': {
        const z = get('zset', () => new Map());
        for (let i = 0; i < args.length; i += 2) z.set(args[i + 1], parseScore(args[i]!));
        break;
      }
      case 'zrem':
        for (const x of args) get('zset', () => new Map()).delete(x);
        dropIfEmpty();
        break;
      case 'xadd':
        get('stream', () => []).push(`${args[0]}:${args.slice(1).join(',')}`);
        break;
      default:
        throw new Error(`the model does not apply ${e.event_type} op ${e.op}`);
    }
    if (e.event_type === 'snapshot' && e.expire_at_ms !== null) m.get(key!)!.expireAtMs = e.expire_at_ms;
  }
}

/** Canonical text of a model, for one deepEqual. */
export function canonical(m: DbModel): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, k] of [...m].sort(([a], [b]) => (a < b ? -1 : 1))) {
    let v: unknown = k.value;
    if (v instanceof Map) v = [...v].map(([a, b]) => `${a}=${b}`).sort();
    else if (v instanceof Set) v = [...v].sort();
    out[Buffer.from(key, 'latin1').toString('hex')] = JSON.stringify([k.type, v, k.expireAtMs]);
  }
  return out;
}

/** The master's state as a model (3.5 keeps expiry in seconds and leaves streams out of its dump). */
export function masterModel(state: Map<string, Entry>, profile: '4.0' | '3.5'): DbModel {
  const m: DbModel = new Map();
  for (const [key, e] of state) {
    const v = e.value;
    const expireAtMs = e.expireAtMs === undefined ? null : profile === '3.5' ? Math.floor(e.expireAtMs / 1000) * 1000 : e.expireAtMs;
    const l1 = (b: Buffer): string => b.toString('latin1');
    switch (v.type) {
      case 'string': m.set(key, { type: 'string', value: l1(v.value), expireAtMs }); break;
      case 'hash': m.set(key, { type: 'hash', value: new Map([...v.fields].map(([f, x]) => [f, l1(x)])), expireAtMs }); break;
      case 'set': m.set(key, { type: 'set', value: new Set(v.members), expireAtMs }); break;
      case 'zset': m.set(key, { type: 'zset', value: new Map(v.scores), expireAtMs }); break;
      case 'list': m.set(key, { type: 'list', value: v.items.map(l1), expireAtMs }); break;
      case 'stream':
        if (profile === '4.0') m.set(key, { type: 'stream', value: v.entries.map((x) => `${x.id.ms}-${x.id.seq}:${x.fields.map(l1).join(',')}`), expireAtMs: null });
        break;
    }
  }
  return m;
}

/** Every data type, binary keys and values, TTLs, and a 450-field hash (split into parts by a limit of 100). */
export function writeData(m: PikaMaster, db: number, tag: string): void {
  const exec = (...argv: (string | Buffer)[]): void => {
    const reply = m.exec(db, argv).toString('latin1');
    assert.ok(!reply.startsWith('-'), `${argv.join(' ')}: ${reply}`);
  };
  for (let i = 0; i < 50; i++) exec('SET', `${tag}:s:${i}`, `v${i}`);
  exec('SET', Buffer.from(`${tag}:bin\0\xff`, 'latin1'), Buffer.from([0, 1, 255]));
  exec('SETEX', `${tag}:ttl`, '3600', 'later');
  exec('HMSET', `${tag}:big`, ...Array.from({ length: 450 }, (_, i) => [`f${i}`, `v${i}`]).flat());
  exec('RPUSH', `${tag}:l`, ...Array.from({ length: 30 }, (_, i) => `i${i}`));
  exec('SADD', `${tag}:set`, 'a', 'b', 'c');
  exec('ZADD', `${tag}:z`, 'inf', 'top', '-inf', 'bottom', '1.5', 'mid');
  exec('PEXPIRE', `${tag}:l`, '7200000');
  exec('XADD', `${tag}:x`, '1-1', 'f', 'v');
}

