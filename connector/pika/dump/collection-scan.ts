import { compareBytes, startsWith } from '../rocksdb/coding.ts';
import type { CfCursor } from '../rocksdb/db.ts';
import { Chunker } from './chunker.ts';
import { DumpFormatError } from './errors.ts';
import type { DumpReaderOptions, DumpRecord, ElementsRecord, KeyStartRecord } from './types.ts';

const BATCH_RECORDS = 256;
const BATCH_BYTES = 1 << 20;
const DEFAULT_CHUNK_ELEMENTS = 512;
const DEFAULT_CHUNK_BYTES = 1 << 20;

/**
 * Records gathered between two yields of an instance reader: the readers hand records over in batches (one
 * promise per batch instead of one per record), bounded by count and by approximate payload bytes.
 */
export class RecordBatch {
  private records: DumpRecord[] = [];
  private bytes = 0;

  /** Adds a record; true when the batch is full and should be yielded (`take`). */
  push(record: DumpRecord, bytes: number): boolean {
    this.records.push(record);
    this.bytes += bytes;
    return this.records.length >= BATCH_RECORDS || this.bytes >= BATCH_BYTES;
  }

  get isEmpty(): boolean {
    return this.records.length === 0;
  }

  take(): DumpRecord[] {
    const out = this.records;
    this.records = [];
    this.bytes = 0;
    return out;
  }
}

/**
 * Decodes one data record of a collection into an element (`chunker.push`), or skips it (list elements outside
 * the meta's bounds). `key` is the raw data key (a view valid for this call only: copy what is kept), `value` a
 * view that may be kept.
 */
export type ElementDecoder = (key: Uint8Array, value: Uint8Array, chunker: Chunker<unknown>) => void;

/**
 * The records of one live collection: `key-start`, its elements in data-key order (every data record under
 * `prefix` = key ‖ current version), in chunks, and `key-end`. A meta count that differs from what was found is
 * reported through `onWarning`. `where` names the column family in errors.
 */
export async function* scanCollection(
  start: KeyStartRecord,
  cursor: CfCursor,
  prefix: Uint8Array,
  decode: ElementDecoder,
  batch: RecordBatch,
  where: string,
  opts: DumpReaderOptions,
): AsyncGenerator<DumpRecord[]> {
  const { pos, type } = start;
  batch.push(start, pos.key.length);
  const chunker = new Chunker<unknown>(opts.chunkElements ?? DEFAULT_CHUNK_ELEMENTS, opts.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  let p = cursor.seek(prefix);
  if (p) await p;
  while (cursor.valid && startsWith(cursor.key, prefix)) {
    try {
      decode(cursor.key, cursor.value, chunker);
    } catch (err) {
      throw new DumpFormatError(where, `bad ${type} data record: ${(err as Error).message}`, cursor.key, err);
    }
    const full = chunker.takeFull();
    if (full && batch.push(elements(start, full.items), full.bytes)) yield batch.take();
    p = cursor.next();
    if (p) await p;
  }
  const rest = chunker.flush();
  if (rest) batch.push(elements(start, rest.items), rest.bytes);
  if (chunker.emitted !== start.count) {
    opts.onWarning?.(`${where}: ${type} key ${Buffer.from(pos.key).toString('hex')} meta count ${start.count}, found ${chunker.emitted} elements`);
  }
  if (batch.push({ kind: 'key-end', pos, type, emitted: chunker.emitted }, 0)) yield batch.take();
}

function elements(start: KeyStartRecord, items: unknown[]): ElementsRecord {
  return { kind: 'elements', pos: start.pos, type: start.type, items } as ElementsRecord;
}

/** Where a meta scan starts: the later of the resume key and the lane's first key (raw meta keys); none = first. */
export function rangeStart(after: Uint8Array | undefined, from: Uint8Array | undefined): Uint8Array | undefined {
  if (!after || !from) return after ?? from;
  return compareBytes(after, from) >= 0 ? after : from;
}
