import { readDbDump } from '../../../../../connector/pika/dump/dump-reader.ts';
import type { DumpReaderOptions, StreamEntry } from '../../../../../connector/pika/dump/types.ts';

/** One decoded key, gathered from the streamed records (latin1 strings for easy comparison). */
export type Decoded =
  | { type: 'string'; value: string; expireAtMs: number | null; hyperloglog: boolean; instance: string }
  | { type: 'hash'; value: Map<string, string>; expireAtMs: number | null; instance: string }
  | { type: 'list'; value: string[]; expireAtMs: number | null; instance: string }
  | { type: 'set'; value: Set<string>; expireAtMs: number | null; instance: string }
  | { type: 'zset'; value: Map<string, number>; expireAtMs: number | null; instance: string }
  | { type: 'stream'; value: StreamEntry[]; expireAtMs: number | null; instance: string };

const s = (b: Uint8Array) => Buffer.from(b).toString('latin1');

/**
 * Reads a whole DB dump into a map (test sizes only), checking the record protocol on the way: key-start,
 * elements of the same key and type, key-end with the emitted count; keys strictly increasing per instance.
 */
export async function collectDump(dbDir: string, db: string, opts: DumpReaderOptions = {}) {
  const keys = new Map<string, Decoded>();
  const order: { instance: string; key: string }[] = [];
  const warnings: string[] = [];
  let open: { key: string; type: string; n: number } | undefined;
  for await (const r of readDbDump(dbDir, db, { ...opts, onWarning: (m) => warnings.push(m) })) {
    const key = s(r.pos.key);
    if (r.pos.db !== db) throw new Error(`record for db ${r.pos.db}`);
    if (r.kind === 'string') {
      if (open) throw new Error(`string ${key} inside collection ${open.key}`);
      if (keys.has(key)) throw new Error(`duplicate key ${key}`);
      keys.set(key, { type: 'string', value: s(r.value), expireAtMs: r.expireAtMs, hyperloglog: r.hyperloglog, instance: r.pos.instance });
      order.push({ instance: r.pos.instance, key });
    } else if (r.kind === 'key-start') {
      if (open) throw new Error(`key-start ${key} inside ${open.key}`);
      if (keys.has(key)) throw new Error(`duplicate key ${key}`);
      open = { key, type: r.type, n: 0 };
      const empty =
        r.type === 'hash' || r.type === 'zset' ? new Map() : r.type === 'set' ? new Set() : [];
      keys.set(key, { type: r.type, value: empty, expireAtMs: r.expireAtMs, instance: r.pos.instance } as Decoded);
      order.push({ instance: r.pos.instance, key });
    } else if (r.kind === 'elements') {
      if (!open || open.key !== key || open.type !== r.type) throw new Error(`elements for ${key} outside its key`);
      if (r.items.length === 0) throw new Error('empty elements chunk');
      open.n += r.items.length;
      const d = keys.get(key)!;
      if (r.type === 'hash' && d.type === 'hash') for (const it of r.items) d.value.set(s(it.field), s(it.value));
      else if (r.type === 'set' && d.type === 'set') for (const it of r.items) d.value.add(s(it));
      else if (r.type === 'zset' && d.type === 'zset') for (const it of r.items) d.value.set(s(it.member), it.score);
      else if (r.type === 'list' && d.type === 'list') for (const it of r.items) d.value.push(s(it));
      else if (r.type === 'stream' && d.type === 'stream') d.value.push(...r.items);
    } else {
      if (!open || open.key !== key || open.type !== r.type || open.n !== r.emitted) throw new Error(`bad key-end for ${key}`);
      open = undefined;
    }
  }
  if (open) throw new Error(`key ${open.key} never ended`);
  return { keys, order, warnings };
}
