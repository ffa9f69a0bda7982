import { join } from 'node:path';
import { compareBytes, copyBytes } from '../rocksdb/coding.ts';
import { ReadOnlyDb, type CfCursor } from '../rocksdb/db.ts';
import type { Chunker } from './chunker.ts';
import { CollectionScan, rangeStart, RecordBatch, ScanCursor, type ElementDecoder } from './collection-scan.ts';
import { DumpFormatError } from './errors.ts';
import {
  dataKeyPrefix,
  dataKeyTail,
  dataKeyTailEnd,
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
import type { DumpReaderOptions, DumpRecord, KeyPosition } from './types.ts';

/**
 * Streams the live keys of one Floyd (Pika 4.x) RocksDB instance, in meta key order, as batches of records.
 * Liveness follows Pika's readers (pika-protocol.md §8.1): strings unexpired; collections with count > 0,
 * unexpired, and only data records whose version equals the meta's; list elements strictly between left and right
 * index. Values are views of the decoded blocks (not copies); keys, fields and members are copies.
 */
export async function* readFloydInstance(
  dbDir: string,
  db: string,
  instance: string,
  opts: DumpReaderOptions & { nowMs: number },
): AsyncGenerator<DumpRecord[]> {
  const dir = join(dbDir, instance);
  const rdb = await ReadOnlyDb.open(dir, opts);
  try {
    for (const cf of [FLOYD_CF.meta, FLOYD_CF.hash, FLOYD_CF.set, FLOYD_CF.list, FLOYD_CF.zset]) {
      if (!rdb.hasColumnFamily(cf)) throw new DumpFormatError(dir, `column family ${cf} is missing; not a Pika 4.x (Floyd) instance`);
    }
    const meta = rdb.cursor(FLOYD_CF.meta);
    const dataCursors = new Map<string, ScanCursor>();
    const dataCursor = (cf: string): ScanCursor => {
      let c = dataCursors.get(cf);
      if (!c) {
        if (!rdb.hasColumnFamily(cf)) throw new DumpFormatError(dir, `column family ${cf} is missing`);
        c = new ScanCursor(rdb.cursor(cf));
        dataCursors.set(cf, c);
      }
      return c;
    };
    const batch = new RecordBatch();
    const after = opts.after?.instance === instance ? opts.after.key : undefined;
    const start = rangeStart(after && encodeMetaKey(after), opts.range?.from);
    if (start) await meta.seek(start);
    else await meta.seekToFirst();
    const until = opts.range?.until;
    while (meta.valid && !(until && compareBytes(meta.keyBuf, until, meta.keyLen) >= 0)) {
      let key: Uint8Array;
      let m: ReturnType<typeof decodeMetaValue>;
      try {
        const decoded = decodeMetaKey(meta.keyBuf, meta.keyLen);
        key = decoded.key;
        m = decodeMetaValue(meta.valueBuf, meta.valueStart, meta.valueEnd);
        if (!decoded.intact) {
          opts.onWarning?.(
            `${dir}: key ${JSON.stringify(Buffer.from(key).toString('latin1'))} (raw ${Buffer.from(meta.key).toString('hex')}) was stored damaged by Pika's EncodeUserKey bug (0x00 inside the key); exported as Pika decodes it`,
          );
        }
      } catch (err) {
        throw new DumpFormatError(dir, `bad meta record: ${(err as Error).message}`, meta.key, err);
      }
      const live = !(after && Buffer.compare(key, after) === 0) && (m.expireAtMs === null || m.expireAtMs > opts.nowMs);
      if (live) {
        const pos: KeyPosition = { db, instance, key };
        if (m.type === 'string') {
          const record: DumpRecord = { kind: 'string', pos, value: m.value, expireAtMs: m.expireAtMs, hyperloglog: m.hyperloglog };
          if (batch.push(record, key.length + m.value.length)) yield batch.take();
        } else if (m.count > 0) {
          const cf = DATA_CF[m.type];
          const start = { kind: 'key-start', pos, type: m.type, expireAtMs: m.expireAtMs, count: m.count, ...(m.stream ? { stream: m.stream } : {}) } as const;
          const prefix = dataKeyPrefix(key, m.version);
          const scan = new CollectionScan(start, dataCursor(cf), prefix, elementDecoder(dir, pos, m, prefix.length, opts.onWarning), batch, `${dir} ${cf}`, opts);
          for (let s = scan.step(); s !== 'done'; s = scan.step()) {
            if (s === 'full') yield batch.take();
            else await s;
          }
        }
      }
      const p = meta.next();
      if (p) await p;
    }
    if (!batch.isEmpty) yield batch.take();
  } finally {
    await rdb.close();
  }
}

const DATA_CF: Record<FloydCollectionMeta['type'], string> = {
  hash: FLOYD_CF.hash,
  set: FLOYD_CF.set,
  zset: FLOYD_CF.zset,
  list: FLOYD_CF.list,
  stream: FLOYD_CF.stream,
};

/** Data key = prefix ‖ field/member/index/id ‖ reserve[16]; see floyd-format.ts for the values. */
function elementDecoder(
  dir: string,
  pos: KeyPosition,
  m: FloydCollectionMeta,
  prefixLength: number,
  onWarning: DumpReaderOptions['onWarning'],
): ElementDecoder {
  switch (m.type) {
    case 'hash':
      return (r: CfCursor, out: Chunker<unknown>) => {
        const field = copyTail(r, prefixLength);
        // 4.0.0's HINCRBY stored raw values without the 24-byte suffix; 4.0.1's wash-data treats a value shorter
        // than the suffix as such a raw value (`DB::WashData`, issue #2886), and so do we.
        const raw = r.valueEnd - r.valueStart < 24;
        if (raw) onWarning?.(`${dir}: hash ${Buffer.from(pos.key).toString('hex')} field ${Buffer.from(field).toString('hex')} has an unwashed 4.0.0 value (no suffix); taken as the raw value`);
        const value = raw ? r.value : decodeDataValue(r.valueBuf, r.valueStart, r.valueEnd);
        out.push({ field, value }, field.length + value.length);
      };
    case 'set':
      return (r, out) => {
        const member = copyTail(r, prefixLength);
        out.push(member, member.length);
      };
    case 'zset':
      return (r, out) => {
        const member = copyTail(r, prefixLength);
        out.push({ member, score: decodeZSetScore(r.valueBuf, r.valueStart, r.valueEnd) }, member.length + 8);
      };
    case 'list':
      return (r, out) => {
        const index = decodeListIndex(dataKeyTail(r.key, prefixLength));
        if (index <= m.leftIndex! || index >= m.rightIndex!) return;
        const value = decodeDataValue(r.valueBuf, r.valueStart, r.valueEnd);
        out.push(value, value.length);
      };
    case 'stream':
      return (r, out) => {
        const fieldsAndValues = decodeStreamFields(r.value);
        out.push({ id: decodeStreamId(dataKeyTail(r.key, prefixLength)), fieldsAndValues }, fieldsAndValues.reduce((n, b) => n + b.length, 16));
      };
  }
}

/** A copy of the field / member part of the cursor's data key (`dataKeyTail`). */
function copyTail(r: CfCursor, prefixLength: number): Buffer {
  return copyBytes(r.keyBuf, prefixLength, dataKeyTailEnd(r.keyLen, prefixLength));
}
