import { join } from 'node:path';
import { startsWith } from '../rocksdb/coding.ts';
import { ReadOnlyDb, type CfCursor } from '../rocksdb/db.ts';
import {
  BLACKWIDOW_DATA_CF,
  dataKeyPrefix,
  decodeBaseMeta,
  decodeListIndex,
  decodeListsMeta,
  decodeStringValue,
  decodeZSetScore,
  type BlackwidowInstance,
  type BlackwidowMeta,
} from './blackwidow-format.ts';
import { Chunker } from './chunker.ts';
import { DumpFormatError } from './errors.ts';
import type { CollectionType, DumpReaderOptions, DumpRecord, ElementsRecord, KeyPosition } from './types.ts';

const TYPE_OF: Record<Exclude<BlackwidowInstance, 'strings'>, CollectionType> = {
  hashes: 'hash',
  lists: 'list',
  sets: 'set',
  zsets: 'zset',
};

/**
 * Streams the live keys of one Blackwidow (Pika 3.x) type database in raw key order; liveness as in Pika
 * (unexpired, count > 0, data version = meta version, list indices strictly between left and right).
 */
export async function* readBlackwidowInstance(
  dbDir: string,
  db: string,
  instance: BlackwidowInstance,
  opts: DumpReaderOptions & { nowMs: number },
): AsyncGenerator<DumpRecord> {
  const dir = join(dbDir, instance);
  const rdb = await ReadOnlyDb.open(dir, { onWarning: opts.onWarning });
  try {
    const meta = rdb.cursor('default');
    const after = opts.after?.instance === instance ? opts.after.key : undefined;
    if (after) await meta.seek(after);
    else await meta.seekToFirst();
    const data = instance === 'strings' ? undefined : rdb.cursor(BLACKWIDOW_DATA_CF[instance]);
    for (; meta.valid; await meta.next()) {
      if (after && Buffer.compare(meta.key, after) === 0) continue;
      const pos: KeyPosition = { db, instance, key: Uint8Array.from(meta.key) };
      if (instance === 'strings') {
        let s;
        try {
          s = decodeStringValue(meta.value);
        } catch (err) {
          throw new DumpFormatError(dir, `bad string value: ${(err as Error).message}`, meta.key, err);
        }
        if (s.expireAtMs !== null && s.expireAtMs <= opts.nowMs) continue;
        yield { kind: 'string', pos, value: Uint8Array.from(s.value), expireAtMs: s.expireAtMs, hyperloglog: false };
        continue;
      }
      let m: BlackwidowMeta;
      try {
        m = instance === 'lists' ? decodeListsMeta(meta.value) : decodeBaseMeta(meta.value);
      } catch (err) {
        throw new DumpFormatError(dir, `bad meta value: ${(err as Error).message}`, meta.key, err);
      }
      if (m.count <= 0 || (m.expireAtMs !== null && m.expireAtMs <= opts.nowMs)) continue;
      yield* readCollection(dir, pos, TYPE_OF[instance], m, data!, opts);
    }
  } finally {
    await rdb.close();
  }
}

async function* readCollection(
  dir: string,
  pos: KeyPosition,
  type: CollectionType,
  m: BlackwidowMeta,
  cursor: CfCursor,
  opts: DumpReaderOptions,
): AsyncGenerator<DumpRecord> {
  yield { kind: 'key-start', pos, type, expireAtMs: m.expireAtMs, count: m.count };
  const prefix = dataKeyPrefix(pos.key, m.version);
  const chunker = new Chunker<unknown>(opts.chunkElements ?? 512, opts.chunkBytes ?? 1 << 20);
  const chunk = (items: unknown[] | undefined): ElementsRecord | undefined =>
    items ? ({ kind: 'elements', pos, type, items } as ElementsRecord) : undefined;
  for (await cursor.seek(prefix); cursor.valid && startsWith(cursor.key, prefix); await cursor.next()) {
    const tail = cursor.key.subarray(prefix.length);
    const v = cursor.value;
    let item: unknown;
    let size: number;
    try {
      switch (type) {
        case 'hash':
          item = { field: Uint8Array.from(tail), value: Uint8Array.from(v) };
          size = tail.length + v.length;
          break;
        case 'set':
          item = Uint8Array.from(tail);
          size = tail.length;
          break;
        case 'zset':
          item = { member: Uint8Array.from(tail), score: decodeZSetScore(v) };
          size = tail.length + 8;
          break;
        case 'list': {
          const index = decodeListIndex(tail);
          if (index <= m.leftIndex! || index >= m.rightIndex!) continue;
          item = Uint8Array.from(v);
          size = v.length;
          break;
        }
        default:
          throw new Error(`type ${type} has no Blackwidow data column family`);
      }
    } catch (err) {
      throw new DumpFormatError(dir, `bad ${type} data record: ${(err as Error).message}`, cursor.key, err);
    }
    const full = chunk(chunker.push(item, size));
    if (full) yield full;
  }
  const rest = chunk(chunker.flush());
  if (rest) yield rest;
  if (chunker.emitted !== m.count) {
    opts.onWarning?.(`${dir}: ${type} key ${Buffer.from(pos.key).toString('hex')} meta count ${m.count}, found ${chunker.emitted} elements`);
  }
  yield { kind: 'key-end', pos, type, emitted: chunker.emitted };
}
