// Replays snapshot events onto an empty keyspace (latin1 strings), the way a consumer would apply them.
import type { PikaEvent } from '../../../../../connector/pika/events/event.ts';
import type { ModelValue } from '../dump/redis-script-model.ts';

export interface ReplayedKey {
  v: ModelValue;
  expireAtMs: number | null;
  hyperloglog: boolean;
}

const s = (b64: string) => Buffer.from(b64, 'base64').toString('latin1');

/** Parses a zset score the way Redis does for the spellings formatScore produces. */
export function parseScore(text: string): number {
  if (text === 'inf' || text === '+inf') return Infinity;
  if (text === '-inf') return -Infinity;
  const n = Number(text);
  if (Number.isNaN(n) || text.trim() !== text || text === '') throw new Error(`bad score ${JSON.stringify(text)}`);
  return n;
}

export function replayEvents(events: PikaEvent[]): Map<string, ReplayedKey> {
  const keys = new Map<string, ReplayedKey>();
  for (const e of events) {
    if (e.event_type === 'control') continue;
    if (e.event_type !== 'snapshot') throw new Error(`unexpected event_type ${e.event_type}`);
    const [key, ...args] = e.args_b64.map(s);
    if (e.key_b64 === null || s(e.key_b64) !== key) throw new Error('key_b64 must equal the first argument');
    const get = <T extends ModelValue['type']>(type: T, init: () => Extract<ModelValue, { type: T }>) => {
      let k = keys.get(key!);
      if (!k) keys.set(key!, (k = { v: init(), expireAtMs: null, hyperloglog: false }));
      if (k.v.type !== type) throw new Error(`WRONGTYPE ${key}`);
      return k.v as Extract<ModelValue, { type: T }>;
    };
    switch (e.op) {
      case 'set':
        if (args.length !== 1) throw new Error('set takes key value');
        keys.set(key!, { v: { type: 'string', value: args[0]! }, expireAtMs: null, hyperloglog: e.warnings.includes('pika-hyperloglog') });
        break;
      case 'hset': {
        const h = get('hash', () => ({ type: 'hash', value: new Map() }));
        for (let i = 0; i < args.length; i += 2) h.value.set(args[i]!, args[i + 1]!);
        break;
      }
      case 'sadd': {
        const st = get('set', () => ({ type: 'set', value: new Set() }));
        for (const m of args) st.value.add(m);
        break;
      }
      case 'rpush':
        get('list', () => ({ type: 'list', value: [] })).value.push(...args);
        break;
      case 'zadd': {
        const z = get('zset', () => ({ type: 'zset', value: new Map() }));
        for (let i = 0; i < args.length; i += 2) z.value.set(args[i + 1]!, parseScore(args[i]!));
        break;
      }
      case 'xadd': {
        const [ms, seq] = args[0]!.split('-');
        get('stream', () => ({ type: 'stream', value: [] })).value.push({ id: { ms: BigInt(ms!), seq: BigInt(seq!) }, fields: args.slice(1) });
        break;
      }
      default:
        throw new Error(`unexpected snapshot op ${e.op}`);
    }
    if (e.expire_at_ms !== null) keys.get(key!)!.expireAtMs = e.expire_at_ms;
  }
  return keys;
}
