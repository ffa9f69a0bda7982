import { join } from 'node:path';
import { startsWith } from '../rocksdb/coding.ts';
import { ReadOnlyDb, type CfCursor } from '../rocksdb/db.ts';
import { Chunker } from './chunker.ts';
import { DumpFormatError } from './errors.ts';
import {
  dataKeyPrefix,
  dataKeyTail,
  decodeDataValue,
  decodeListIndex,
  decodeMetaKey,
  decodeMetaValue,
  decodeStreamFields,
  decodeStreamId,
  decodeZSetScore,
  encodeMetaKey,
  FLOYD_CF,
  type FloydCollectionMeta,
} from './floyd-format.ts';
import type { DumpReaderOptions, DumpRecord, ElementsRecord, KeyPosition } from './types.ts';

const DEFAULT_CHUNK_ELEMENTS = 512;
const DEFAULT_CHUNK_BYTES = 1 << 20;

/**
 * Streams the live keys of one Floyd (Pika 4.x) RocksDB instance, in meta key order. Liveness follows Pika's
 * readers (pika-protocol.md §8.1): strings unexpired; collections with count > 0, unexpired, and only data records
 * whose version equals the meta's; list elements strictly between left and right index.
 */
export async function* readFloydInstance(
  dbDir: string,
  db: string,
  instance: string,
  opts: DumpReaderOptions & { nowMs: number },
): AsyncGenerator<DumpRecord> {
  const dir = join(dbDir, instance);
  const rdb = await ReadOnlyDb.open(dir, { onWarning: opts.onWarning });
  try {
    for (const cf of [FLOYD_CF.meta, FLOYD_CF.hash, FLOYD_CF.set, FLOYD_CF.list, FLOYD_CF.zset]) {
      if (!rdb.hasColumnFamily(cf)) throw new DumpFormatError(dir, `column family ${cf} is missing; not a Pika 4.x (Floyd) instance`);
    }
    const meta = rdb.cursor(FLOYD_CF.meta);
    const dataCursors = new Map<string, CfCursor>();
    const dataCursor = (cf: string): CfCursor => {
      let c = dataCursors.get(cf);
      if (!c) {
        if (!rdb.hasColumnFamily(cf)) throw new DumpFormatError(dir, `column family ${cf} is missing`);
        c = rdb.cursor(cf);
        dataCursors.set(cf, c);
      }
      return c;
    };
    const after = opts.after?.instance === instance ? opts.after.key : undefined;
    if (after) {
      await meta.seek(encodeMetaKey(after));
    } else await meta.seekToFirst();
    for (; meta.valid; await meta.next()) {
      let key: Uint8Array;
      let m: ReturnType<typeof decodeMetaValue>;
      try {
        const decoded = decodeMetaKey(meta.key);
        key = decoded.key;
        m = decodeMetaValue(meta.value);
        if (!decoded.intact) {
          opts.onWarning?.(
            `${dir}: key ${JSON.stringify(Buffer.from(key).toString('latin1'))} (raw ${Buffer.from(meta.key).toString('hex')}) was stored damaged by Pika's EncodeUserKey bug (0x00 inside the key); exported as Pika decodes it`,
          );
        }
      } catch (err) {
        throw new DumpFormatError(dir, `bad meta record: ${(err as Error).message}`, meta.key, err);
      }
      if (after && Buffer.compare(key, after) === 0) continue;
      const pos: KeyPosition = { db, instance, key: Uint8Array.from(key) };
      if (m.expireAtMs !== null && m.expireAtMs <= opts.nowMs) continue;
      if (m.type === 'string') {
        yield { kind: 'string', pos, value: Uint8Array.from(m.value), expireAtMs: m.expireAtMs, hyperloglog: m.hyperloglog };
        continue;
      }
      if (m.count <= 0) continue;
      yield* readCollection(dir, pos, m, dataCursor, opts);
    }
  } finally {
    await rdb.close();
  }
}

async function* readCollection(
  dir: string,
  pos: KeyPosition,
  m: FloydCollectionMeta,
  dataCursor: (cf: string) => CfCursor,
  opts: DumpReaderOptions,
): AsyncGenerator<DumpRecord> {
  yield { kind: 'key-start', pos, type: m.type, expireAtMs: m.expireAtMs, count: m.count, ...(m.stream ? { stream: m.stream } : {}) };
  const cf = m.type === 'hash' ? FLOYD_CF.hash : m.type === 'set' ? FLOYD_CF.set : m.type === 'zset' ? FLOYD_CF.zset : m.type === 'list' ? FLOYD_CF.list : FLOYD_CF.stream;
  const cursor = dataCursor(cf);
  const prefix = dataKeyPrefix(pos.key, m.version);
  const chunker = new Chunker<unknown>(opts.chunkElements ?? DEFAULT_CHUNK_ELEMENTS, opts.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  const chunk = (items: unknown[] | undefined): ElementsRecord | undefined =>
    items ? ({ kind: 'elements', pos, type: m.type, items } as ElementsRecord) : undefined;
  for (await cursor.seek(prefix); cursor.valid && startsWith(cursor.key, prefix); await cursor.next()) {
    let item: unknown;
    let size: number;
    try {
      const tail = dataKeyTail(cursor.key, prefix.length);
      const v = cursor.value;
      switch (m.type) {
        case 'hash': {
          // 4.0.0's HINCRBY stored raw values without the 24-byte suffix; 4.0.1's wash-data treats a value
          // shorter than the suffix as such a raw value (`DB::WashData`, issue #2886), and so do we.
          const raw = v.length < 24;
          if (raw) opts.onWarning?.(`${dir}: hash ${Buffer.from(pos.key).toString('hex')} field ${Buffer.from(tail).toString('hex')} has an unwashed 4.0.0 value (no suffix); taken as the raw value`);
          const value = raw ? v : decodeDataValue(v);
          item = { field: Uint8Array.from(tail), value: Uint8Array.from(value) };
          size = tail.length + value.length;
          break;
        }
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
          const value = decodeDataValue(v);
          item = Uint8Array.from(value);
          size = value.length;
          break;
        }
        case 'stream': {
          const fieldsAndValues = decodeStreamFields(v).map((b) => Uint8Array.from(b));
          item = { id: decodeStreamId(tail), fieldsAndValues };
          size = fieldsAndValues.reduce((n, b) => n + b.length, 16);
          break;
        }
      }
    } catch (err) {
      throw new DumpFormatError(`${dir} ${cf}`, `bad ${m.type} data record: ${(err as Error).message}`, cursor.key, err);
    }
    const full = chunk(chunker.push(item, size));
    if (full) yield full;
  }
  const rest = chunk(chunker.flush());
  if (rest) yield rest;
  if (chunker.emitted !== m.count) {
    opts.onWarning?.(`${dir}: ${m.type} key ${Buffer.from(pos.key).toString('hex')} meta count ${m.count}, found ${chunker.emitted} elements`);
  }
  yield { kind: 'key-end', pos, type: m.type, emitted: chunker.emitted };
}
