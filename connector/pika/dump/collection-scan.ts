import { compareBytes, startsWith } from '../rocksdb/coding.ts';
import type { CfCursor } from '../rocksdb/db.ts';
import { Chunker } from './chunker.ts';
import { DumpFormatError } from './errors.ts';
import type { DumpReaderOptions, DumpRecord, ElementsRecord, KeyStartRecord } from './types.ts';

const BATCH_RECORDS = 256;
/**
 * A batch's records stay alive until the consumer is done with them; at 1 MiB of payload (~10k hash fields of 100 B)
 * they outlived young-generation GCs, were promoted and piled up as old-space garbage: peak RSS snapshotting one
 * 500 MB hash went 254-268 -> 192-205 MiB with the block thread, 210 -> 147 MiB without, at 256 KiB
 * (bench/fullsync-big-hash.ts). Batches of small keys are bounded by BATCH_RECORDS first.
 */
const BATCH_BYTES = 256 * 1024;
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
 * Decodes the data record the cursor stands on into an element (`chunker.push`), or skips it (list elements
 * outside the meta's bounds). The raw key (`keyBuf[0, keyLen)`) is overwritten by the next step: copy what is
 * kept; views of the value (`valueBuf[valueStart, valueEnd)`) may be kept.
 */
export type ElementDecoder = (record: CfCursor, chunker: Chunker<unknown>) => void;

/**
 * A data column family's cursor, shared by the collection scans of one instance reader (which run one after the
 * other), and the prefix the last of them covered.
 */
export class ScanCursor {
  readonly cursor: CfCursor;
  lastPrefix: Uint8Array | undefined;

  constructor(cursor: CfCursor) {
    this.cursor = cursor;
  }
}

/**
 * The records of one live collection: `key-start`, its elements in data-key order (every data record under
 * `prefix` = key ‖ current version), in chunks, and `key-end`. A meta count that differs from what was found is
 * reported through `onWarning`. `where` names the column family in errors.
 *
 * A plain object stepped by the instance reader rather than a generator of its own: most collections are small
 * and lie in a block already in memory, so a scan usually completes in one synchronous `step`. Drive it as
 * `for (let s = scan.step(); s !== 'done'; s = scan.step()) { if (s === 'full') yield batch.take(); else await s; }`.
 */
export class CollectionScan {
  private readonly start: KeyStartRecord;
  private readonly cursor: CfCursor;
  private readonly prefix: Uint8Array;
  private readonly decode: ElementDecoder;
  private readonly batch: RecordBatch;
  private readonly where: string;
  private readonly opts: DumpReaderOptions;
  private readonly chunker: Chunker<unknown>;
  /** A cursor step to await before going on (the first seek). */
  private pending: Promise<void> | undefined;
  /** The cursor stays on an element already decoded (the batch was handed over first). */
  private advance = false;
  private finished = false;

  constructor(start: KeyStartRecord, data: ScanCursor, prefix: Uint8Array, decode: ElementDecoder, batch: RecordBatch, where: string, opts: DumpReaderOptions) {
    const cursor = data.cursor;
    this.start = start;
    this.cursor = cursor;
    this.prefix = prefix;
    this.decode = decode;
    this.batch = batch;
    this.where = where;
    this.opts = opts;
    this.chunker = new Chunker<unknown>(opts.chunkElements ?? DEFAULT_CHUNK_ELEMENTS, opts.chunkBytes ?? DEFAULT_CHUNK_BYTES);
    batch.push(start, start.pos.key.length);
    // The last scan left the cursor on the first live key after its prefix's range. Data prefixes are prefix-free,
    // so a greater prefix lies after that range: when the cursor already stands at or past it (or at the end),
    // it stands where a seek would put it (bytewise column families; the list comparator orders otherwise).
    const last = data.lastPrefix;
    data.lastPrefix = prefix;
    const there =
      cursor.bytewise && last !== undefined && compareBytes(prefix, last) > 0 && (!cursor.valid || compareBytes(cursor.keyBuf, prefix, cursor.keyLen) >= 0);
    this.pending = there ? undefined : cursor.seek(prefix);
  }

  /**
   * Goes on synchronously as far as it can: `'full'` when the batch must be taken (then step again), a promise
   * when a block must be read (await it, then step again), `'done'` once `key-end` is in the batch.
   */
  step(): Promise<void> | 'full' | 'done' {
    if (this.finished) return 'done';
    const pending = this.pending;
    if (pending) {
      this.pending = undefined;
      return pending;
    }
    const { cursor, prefix, chunker, batch, start } = this;
    if (this.advance) {
      this.advance = false;
      const p = cursor.next();
      if (p) return p;
    }
    while (cursor.valid && startsWith(cursor.keyBuf, prefix, cursor.keyLen)) {
      try {
        this.decode(cursor, chunker);
      } catch (err) {
        throw new DumpFormatError(this.where, `bad ${start.type} data record: ${(err as Error).message}`, cursor.key, err);
      }
      const full = chunker.takeFull();
      if (full && batch.push(elements(start, full.items), full.bytes)) {
        this.advance = true;
        return 'full';
      }
      const p = cursor.next();
      if (p) return p;
    }
    this.finished = true;
    const rest = chunker.flush();
    if (rest) batch.push(elements(start, rest.items), rest.bytes);
    const { pos, type } = start;
    if (chunker.emitted !== start.count) {
      this.opts.onWarning?.(`${this.where}: ${type} key ${Buffer.from(pos.key).toString('hex')} meta count ${start.count}, found ${chunker.emitted} elements`);
    }
    return batch.push({ kind: 'key-end', pos, type, emitted: chunker.emitted }, 0) ? 'full' : 'done';
  }
}

function elements(start: KeyStartRecord, items: unknown[]): ElementsRecord {
  return { kind: 'elements', pos: start.pos, type: start.type, items } as ElementsRecord;
}

/** Where a meta scan starts: the later of the resume key and the lane's first key (raw meta keys); none = first. */
export function rangeStart(after: Uint8Array | undefined, from: Uint8Array | undefined): Uint8Array | undefined {
  if (!after || !from) return after ?? from;
  return compareBytes(after, from) >= 0 ? after : from;
}
