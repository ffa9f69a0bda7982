// The spill log on disk: an append-only, fsync'd, size-bounded sequence of records in segment files.
//
// Layout: `<dir>/spill-<first seq, 20 digits>.log`, each file =
//   header  8 bytes "PKSPILL1" | u64 LE first seq (must equal the name)
//   frames  u32 LE payload length | u32 LE crc32c(payload) | payload
//   payload u8 db-name length | db name | u32 LE filenum | u64 LE offset | body
// The (db, filenum, offset) of each record is its binlog END position; the log keeps, per segment, the largest end
// of every DB so whole segments can be trimmed once Kafka holds everything in them. Records are numbered (seq)
// consecutively across segments; a gap between segments is an error.
//
// Contract:
// - `append` writes whole frames and fsyncs (data, plus the directory when a segment was created) before it
//   resolves: a resolved append survives a crash. It never writes past `maxBytes` (except one batch into an empty
//   log, so a single huge record cannot block forever): it returns how many records it took.
// - `read` returns only records whose append resolved (never a half-written tail).
// - `trim(done)` deletes leading segments in which every DB's largest end is `done`; deletion is file by file,
//   oldest first, so a crash mid-trim leaves a valid log.
// - `open` recovers: a torn tail (the last segment ends in an incomplete or CRC-failing frame with no valid frame
//   after it — an append that never completed, hence never acknowledged) is truncated and logged; a bad frame
//   anywhere else, a bad header, or a missing segment is a `SpillLogCorruptError` naming file and byte offset.
import { mkdir, open, readdir, readFile, rm, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ConnectError, type Logger } from '../../../runtime/api/index.ts';
import { comparePositions, type BinlogPosition } from '../binlog/item.ts';
import { crc32c } from '../rocksdb/checksum.ts';

const MAGIC = Buffer.from('PKSPILL1', 'latin1');
const HEADER_BYTES = 16;
const FRAME_HEAD_BYTES = 8;
/** Largest payload accepted when reading (a length above it is corruption, not a record). */
export const MAX_SPILL_PAYLOAD = 1024 * 1024 * 1024;
const NAME = /^spill-(\d{20})\.log$/;

export class SpillLogCorruptError extends ConnectError {
  constructor(message: string) {
    super(`spill log corrupted: ${message}. The log holds binlog items already acknowledged to the master; move the directory aside and resynchronise (snapshot.mode=when_needed or a new source.id) — items in it that Kafka lacks are lost`, { code: 'PIKA_SPILL_CORRUPT', stage: 'poll' });
  }
}

export interface SpillEntry {
  db: string;
  end: BinlogPosition;
  body: Buffer;
}

export interface StoredEntry extends SpillEntry {
  seq: number;
}

interface Segment {
  firstSeq: number;
  count: number;
  path: string;
  bytes: number;
  /** Per DB the largest end position stored in this segment. */
  maxEnd: Map<string, BinlogPosition>;
}

export interface SpillLogOptions {
  dir: string;
  maxBytes: number;
  /** A new segment starts once the current one holds this many bytes. */
  segmentBytes?: number;
  logger: Logger;
}

const segmentName = (firstSeq: number): string => `spill-${String(firstSeq).padStart(20, '0')}.log`;

const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/** Bytes of `path` from `from`: a chunk, or the whole frame starting there when that is larger (not past `end`). */
async function readRange(path: string, from: number, end: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(FRAME_HEAD_BYTES);
    await handle.read(head, 0, Math.min(FRAME_HEAD_BYTES, end - from), from);
    const frameBytes = FRAME_HEAD_BYTES + Math.min(head.readUInt32LE(0), MAX_SPILL_PAYLOAD);
    const length = Math.max(0, Math.min(end - from, Math.max(READ_CHUNK_BYTES, frameBytes)));
    const bytes = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(bytes, 0, length, from);
    return bytes.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function encodeFrame(entry: SpillEntry): Buffer {
  const db = Buffer.from(entry.db, 'utf8');
  if (db.length > 255) throw new Error(`DB name too long for the spill log: ${entry.db}`);
  const payload = Buffer.allocUnsafe(1 + db.length + 12 + entry.body.length);
  payload.writeUInt8(db.length, 0);
  db.copy(payload, 1);
  let at = 1 + db.length;
  payload.writeUInt32LE(entry.end.filenum, at);
  payload.writeBigUInt64LE(BigInt(entry.end.offset), at + 4);
  at += 12;
  entry.body.copy(payload, at);
  const head = Buffer.allocUnsafe(FRAME_HEAD_BYTES);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(crc32c(payload), 4);
  return Buffer.concat([head, payload]);
}

function decodePayload(payload: Buffer): SpillEntry | undefined {
  if (payload.length < 1) return undefined;
  const dbLength = payload.readUInt8(0);
  if (payload.length < 1 + dbLength + 12) return undefined;
  const db = payload.toString('utf8', 1, 1 + dbLength);
  const at = 1 + dbLength;
  const offset = payload.readBigUInt64LE(at + 4);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { db, end: { filenum: payload.readUInt32LE(at), offset: Number(offset) }, body: payload.subarray(at + 12) };
}

type FrameResult = { kind: 'ok'; entry: SpillEntry; next: number } | { kind: 'bad'; why: string };

/** The frame at `at` of a segment's bytes (not past `limit`). */
function frameAt(bytes: Buffer, at: number, limit = bytes.length): FrameResult {
  if (limit - at < FRAME_HEAD_BYTES) return { kind: 'bad', why: `${limit - at} bytes, shorter than a frame header` };
  const length = bytes.readUInt32LE(at);
  if (length > MAX_SPILL_PAYLOAD) return { kind: 'bad', why: `frame length ${length} is over the ${MAX_SPILL_PAYLOAD}-byte limit` };
  if (limit - at - FRAME_HEAD_BYTES < length) return { kind: 'bad', why: `frame of ${length} bytes but only ${limit - at - FRAME_HEAD_BYTES} follow` };
  const payload = bytes.subarray(at + FRAME_HEAD_BYTES, at + FRAME_HEAD_BYTES + length);
  if (crc32c(payload) !== bytes.readUInt32LE(at + 4)) return { kind: 'bad', why: 'CRC mismatch' };
  const entry = decodePayload(payload);
  if (!entry) return { kind: 'bad', why: 'payload does not hold a DB name and position' };
  return { kind: 'ok', entry, next: at + FRAME_HEAD_BYTES + length };
}

/** Whether any byte position after `from` starts a valid frame (a torn tail has none). */
function validFrameAfter(bytes: Buffer, from: number): number | undefined {
  for (let at = from + 1; at + FRAME_HEAD_BYTES <= bytes.length; at++) {
    if (frameAt(bytes, at).kind === 'ok') return at;
  }
  return undefined;
}

export class SpillLog {
  private readonly segments: Segment[] = [];
  private active: FileHandle | undefined;
  private totalBytes = 0;
  private readonly segmentBytes: number;
  /** Read cursor: the segment and byte where record `cursor.seq` starts. */
  private cursor: { seq: number; segment: Segment; at: number } | undefined;
  private appending: Promise<unknown> = Promise.resolve();

  private constructor(private readonly options: SpillLogOptions) {
    this.segmentBytes = options.segmentBytes ?? Math.max(64 * 1024, Math.min(64 * 1024 * 1024, Math.floor(options.maxBytes / 8)));
  }

  static async open(options: SpillLogOptions): Promise<SpillLog> {
    const log = new SpillLog(options);
    await mkdir(options.dir, { recursive: true });
    await log.recover();
    return log;
  }

  /** Bytes on disk (headers included). */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Seq of the oldest record on disk (= `nextSeq` when empty). */
  get firstSeq(): number {
    return this.segments[0]?.firstSeq ?? this.nextSeq;
  }

  /** Seq the next appended record gets. */
  get nextSeq(): number {
    const last = this.segments.at(-1);
    return last ? last.firstSeq + last.count : this.emptyNextSeq;
  }

  private emptyNextSeq = 0;

  get records(): number {
    return this.nextSeq - this.firstSeq;
  }

  /** Per DB the largest end position on disk. */
  tails(): Map<string, BinlogPosition> {
    const out = new Map<string, BinlogPosition>();
    for (const s of this.segments) {
      for (const [db, end] of s.maxEnd) {
        const known = out.get(db);
        if (!known || comparePositions(end, known) > 0) out.set(db, end);
      }
    }
    return out;
  }

  /** Appends as many of `entries` as fit under maxBytes (in order), fsynced; resolves with that count. */
  append(entries: SpillEntry[]): Promise<number> {
    const run = this.appending.then(() => this.appendNow(entries));
    this.appending = run.catch(() => {});
    return run;
  }

  private async appendNow(entries: SpillEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    // A batch goes into one segment: a new one when the current one reached segmentBytes (a soft size).
    const roll = this.needsRoll();
    const frames: Buffer[] = [];
    let bytes = roll ? HEADER_BYTES : 0;
    const empty = this.records === 0;
    for (const entry of entries) {
      const frame = encodeFrame(entry);
      if (this.totalBytes + bytes + frame.length > this.options.maxBytes && !(empty && frames.length === 0)) break;
      frames.push(frame);
      bytes += frame.length;
    }
    if (frames.length === 0) return 0;
    if (roll) await this.roll();
    const segment = this.segments.at(-1)!;
    const data = Buffer.concat(frames);
    await this.active!.write(data, 0, data.length, null);
    await this.active!.datasync();
    segment.bytes += data.length;
    segment.count += frames.length;
    this.totalBytes += data.length;
    for (const entry of entries.slice(0, frames.length)) noteEnd(segment.maxEnd, entry.db, entry.end);
    return frames.length;
  }

  private needsRoll(): boolean {
    const last = this.segments.at(-1);
    return !last || !this.active || last.bytes >= this.segmentBytes;
  }

  private async roll(): Promise<void> {
    const firstSeq = this.nextSeq;
    await this.active?.close();
    this.active = undefined;
    const path = join(this.options.dir, segmentName(firstSeq));
    const handle = await open(path, 'w');
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.writeBigUInt64LE(BigInt(firstSeq), 8);
    await handle.write(header, 0, HEADER_BYTES, 0);
    await handle.datasync();
    await this.syncDir();
    await handle.close();
    this.active = await open(path, 'a');
    this.segments.push({ firstSeq, count: 0, path, bytes: HEADER_BYTES, maxEnd: new Map() });
    this.totalBytes += HEADER_BYTES;
  }

  private async syncDir(): Promise<void> {
    const dir = await open(this.options.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  /** Up to `max` records from `fromSeq` on (records before the oldest on disk are gone: reading starts there). */
  async read(fromSeq: number, max: number): Promise<StoredEntry[]> {
    await this.appending;
    const out: StoredEntry[] = [];
    let seq = Math.max(fromSeq, this.firstSeq);
    if (seq >= this.nextSeq || max <= 0) return out;
    let position = this.cursor && this.cursor.seq === seq && this.segments.includes(this.cursor.segment) ? this.cursor : this.locate(seq);
    seq = position.seq;
    let chunk: { segment: Segment; from: number; bytes: Buffer } | undefined;
    while (out.length < max && seq < this.nextSeq) {
      const segment = position.segment;
      if (seq >= segment.firstSeq + segment.count) {
        const next = this.segments[this.segments.indexOf(segment) + 1];
        if (!next) break;
        position = { seq, segment: next, at: HEADER_BYTES };
        continue;
      }
      let frame = chunk && chunk.segment === segment ? frameAt(chunk.bytes, position.at - chunk.from) : undefined;
      if (!chunk || !frame || frame.kind === 'bad') {
        chunk = { segment, from: position.at, bytes: await readRange(segment.path, position.at, segment.bytes) };
        frame = frameAt(chunk.bytes, 0);
      }
      if (frame.kind === 'bad') throw new SpillLogCorruptError(`${segment.path} at byte ${position.at} (record ${seq}): ${frame.why}`);
      if (seq >= fromSeq) out.push({ seq, ...frame.entry, body: Buffer.from(frame.entry.body) });
      seq++;
      position = { seq, segment, at: chunk.from + frame.next };
    }
    this.cursor = position;
    return out;
  }

  private locate(seq: number): { seq: number; segment: Segment; at: number } {
    const segment = [...this.segments].reverse().find((s) => s.firstSeq <= seq)!;
    return { seq: segment.firstSeq, segment, at: HEADER_BYTES };
  }

  /**
   * Deletes leading segments whose every DB's largest end satisfies `done` (the active one too when all of it is
   * done: the next append starts a new segment). Resolves with the records removed.
   */
  async trim(done: (db: string, end: BinlogPosition) => boolean): Promise<number> {
    await this.appending;
    let removed = 0;
    while (this.segments.length > 0) {
      const segment = this.segments[0]!;
      if (![...segment.maxEnd].every(([db, end]) => done(db, end))) break;
      if (this.segments.length === 1) {
        if (segment.count === 0) break;
        this.emptyNextSeq = segment.firstSeq + segment.count;
        await this.active?.close();
        this.active = undefined;
      }
      await rm(segment.path);
      this.segments.shift();
      this.totalBytes -= segment.bytes;
      removed += segment.count;
    }
    if (removed > 0) await this.syncDir();
    return removed;
  }

  async close(): Promise<void> {
    await this.appending;
    await this.active?.close();
    this.active = undefined;
  }

  // ---------- recovery ----------

  private async recover(): Promise<void> {
    const names = (await readdir(this.options.dir)).filter((n) => NAME.test(n)).sort();
    for (const [index, name] of names.entries()) {
      const last = index === names.length - 1;
      const path = join(this.options.dir, name);
      const firstSeq = Number(NAME.exec(name)![1]);
      const bytes = await readFile(path);
      const where = `${path}`;
      if (bytes.length < HEADER_BYTES || !bytes.subarray(0, 8).equals(MAGIC) || Number(bytes.readBigUInt64LE(8)) !== firstSeq) {
        if (last && bytes.length < HEADER_BYTES && bytes.subarray(0, Math.min(8, bytes.length)).equals(MAGIC.subarray(0, Math.min(8, bytes.length)))) {
          this.options.logger.warn('spill log: removing a segment whose creation was cut short (crash before its header was synced)', { path, bytes: bytes.length });
          await rm(path);
          continue;
        }
        throw new SpillLogCorruptError(`${where} does not start with a spill segment header for record ${firstSeq}`);
      }
      const expected = this.nextSeqOrUndefined();
      if (expected !== undefined && expected !== firstSeq) {
        throw new SpillLogCorruptError(`${where} starts at record ${firstSeq} but the previous segment ends before record ${expected} (a segment is missing)`);
      }
      const segment: Segment = { firstSeq, count: 0, path, bytes: HEADER_BYTES, maxEnd: new Map() };
      let at = HEADER_BYTES;
      while (at < bytes.length) {
        const frame = frameAt(bytes, at);
        if (frame.kind === 'ok') {
          noteEnd(segment.maxEnd, frame.entry.db, frame.entry.end);
          segment.count++;
          at = frame.next;
          continue;
        }
        const later = validFrameAfter(bytes, at);
        if (!last || later !== undefined) {
          throw new SpillLogCorruptError(`${where} at byte ${at} (record ${firstSeq + segment.count}): ${frame.why}${later !== undefined ? `, yet a valid record follows at byte ${later}` : ''}`);
        }
        this.options.logger.warn('spill log: truncating a torn last record (an append cut short by a crash; it was never acknowledged to the master)', {
          path, at_byte: at, dropped_bytes: bytes.length - at, reason: frame.why,
        });
        await truncate(path, at);
        break;
      }
      segment.bytes = at;
      this.segments.push(segment);
      this.totalBytes += at;
    }
    const last = this.segments.at(-1);
    if (last) this.active = await open(last.path, 'a');
  }

  private nextSeqOrUndefined(): number | undefined {
    const last = this.segments.at(-1);
    return last ? last.firstSeq + last.count : undefined;
  }
}

function noteEnd(maxEnd: Map<string, BinlogPosition>, db: string, end: BinlogPosition): void {
  const known = maxEnd.get(db);
  if (!known || comparePositions(end, known) > 0) maxEnd.set(db, { filenum: end.filenum, offset: end.offset });
}
