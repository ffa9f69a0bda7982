import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BLOCK_THREAD_MIN_FILE_BYTES, BlockThread, blockThreadByDefault, type BlockThreadUse } from './block-thread.ts';
import { bytewiseComparator, comparatorByName, type UserComparator } from './comparators.ts';
import { RocksDbFormatError } from './errors.ts';
import { describeValueType, ValueType } from './internal-key.ts';
import { MemIterator, MergingIterator, seekKeyFor, userKeyComparator, type InternalIterator, type Step } from './iterators.ts';
import { LevelIterator, levelRun, openTable, tableRun } from './level-iterator.ts';
import { readLogRecords } from './log-reader.ts';
import { readDbState, type ColumnFamilyState, type DbState, type SstFileMeta } from './manifest.ts';
import type { Table } from './table.ts';
import { decodeWriteBatch } from './write-batch.ts';

export interface OpenDbOptions {
  /** Called for recoverable oddities, e.g. a torn WAL tail (RocksDB's point-in-time recovery stops there too). */
  onWarning?: (message: string) => void;
  /**
   * Verify and decompress data blocks read ahead on the process's block thread (a second core for a long scan);
   * default: when the machine has more than one CPU core (`blockThreadByDefault`).
   */
  blockThread?: boolean;
  /** Tables smaller than this are read in this thread anyway (default BLOCK_THREAD_MIN_FILE_BYTES). */
  blockThreadMinFileBytes?: number;
}

const EMPTY = new Uint8Array(0);

interface CfData {
  state: ColumnFamilyState;
  comparator: UserComparator;
  /** Level-0 files (overlapping), newest first; open for the life of the ReadOnlyDb. */
  level0: { table: Table; file: SstFileMeta }[];
  /** Files of each level >= 1, opened one at a time by each cursor's LevelIterator. */
  levels: SstFileMeta[][];
  memtable: { key: Uint8Array; value: Uint8Array }[];
}

/**
 * A read-only view of one RocksDB directory (e.g. a checkpoint): live SSTs per column family from the MANIFEST
 * plus the WAL files not yet flushed, replayed into an in-memory table per column family. Open files: the level-0
 * SSTs, plus one file per deeper level per open cursor.
 */
export class ReadOnlyDb {
  readonly dir: string;
  readonly state: DbState;
  private readonly cfs: Map<string, CfData>;
  private readonly cursors = new Set<CfCursor>();
  private blockThread: BlockThreadUse | undefined;

  private constructor(dir: string, state: DbState, cfs: Map<string, CfData>, blockThread: BlockThreadUse | undefined) {
    this.dir = dir;
    this.state = state;
    this.cfs = cfs;
    this.blockThread = blockThread;
  }

  static async open(dir: string, opts: OpenDbOptions = {}): Promise<ReadOnlyDb> {
    const state = await readDbState(dir);
    const minFileBytes = opts.blockThreadMinFileBytes ?? BLOCK_THREAD_MIN_FILE_BYTES;
    const blockThread = (opts.blockThread ?? blockThreadByDefault()) ? { thread: BlockThread.acquire(), minFileBytes } : undefined;
    // Started while the tables open and the WAL replays, so that it already takes the first windows read ahead.
    if (blockThread && [...state.columnFamilies.values()].some((cf) => [...cf.files.values()].some((f) => f.size >= minFileBytes))) void blockThread.thread.ready();
    const cfs = new Map<string, CfData>();
    const byId = new Map<number, CfData>();
    try {
      for (const cf of state.columnFamilies.values()) {
        let comparator: UserComparator;
        try {
          comparator = comparatorByName(cf.comparator);
        } catch (err) {
          throw new RocksDbFormatError(state.manifest, `column family "${cf.name}": ${(err as Error).message}`);
        }
        const data: CfData = { state: cf, comparator, level0: [], levels: [], memtable: [] };
        cfs.set(cf.name, data);
        byId.set(cf.id, data);
        const files = [...cf.files.values()];
        const l0 = files.filter((f) => f.level === 0).sort((a, b) => b.largestSeq - a.largestSeq || b.number - a.number);
        for (const f of l0) data.level0.push({ table: await openTable(dir, f, cf), file: f });
        const maxLevel = Math.max(0, ...files.map((f) => f.level));
        for (let level = 1; level <= maxLevel; level++) {
          const inLevel = files.filter((f) => f.level === level);
          if (inLevel.length) data.levels.push(inLevel);
        }
      }
      await replayWals(dir, state, byId, opts);
    } catch (err) {
      for (const cf of cfs.values()) for (const t of cf.level0) await t.table.close().catch(() => undefined);
      blockThread?.thread.release();
      throw err;
    }
    return new ReadOnlyDb(dir, state, cfs, blockThread);
  }

  get columnFamilyNames(): string[] {
    return [...this.cfs.keys()];
  }

  hasColumnFamily(name: string): boolean {
    return this.cfs.has(name);
  }

  comparatorOf(cf: string): UserComparator {
    return this.cf(cf).comparator;
  }

  /**
   * A cursor over the live (newest, not deleted) user keys of a column family. Children are ordered newest first:
   * WAL, level-0 files by sequence, then levels 1, 2, …
   */
  cursor(cf: string): CfCursor {
    const data = this.cf(cf);
    const children: InternalIterator[] = [];
    const levels: LevelIterator[] = [];
    if (data.memtable.length) children.push(new MemIterator(join(this.dir, '(WAL)'), data.memtable, data.comparator));
    const runs = [
      ...data.level0.map((t) => tableRun(t.table, t.file)),
      ...data.levels.map((files) => levelRun(this.dir, files, data.state, data.comparator)),
    ];
    for (const run of runs) {
      const it = new LevelIterator(run, data.comparator, this.blockThread);
      levels.push(it);
      children.push(it);
    }
    const cursor = new CfCursor(new MergingIterator(children, data.comparator), data.comparator, async () => {
      this.cursors.delete(cursor);
      for (const l of levels) await l.close();
    });
    this.cursors.add(cursor);
    return cursor;
  }

  /** Closes every file, including those held by cursors that were not closed. */
  async close(): Promise<void> {
    for (const c of [...this.cursors]) await c.close();
    for (const cf of this.cfs.values()) for (const t of cf.level0) await t.table.close();
    this.blockThread?.thread.release();
    this.blockThread = undefined;
  }

  private cf(name: string): CfData {
    const d = this.cfs.get(name);
    if (!d) throw new RocksDbFormatError(this.state.manifest, `has no column family "${name}" (has ${this.columnFamilyNames.join(', ')})`);
    return d;
  }
}

async function replayWals(dir: string, state: DbState, byId: Map<number, CfData>, opts: OpenDbOptions): Promise<void> {
  const minLog = Math.min(...[...state.columnFamilies.values()].map((c) => c.logNumber));
  const logs = (await readdir(dir))
    .map((n) => /^(\d+)\.log$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[0], number: Number(m[1]) }))
    .filter((l) => l.number >= minLog)
    .sort((a, b) => a.number - b.number);
  for (const log of logs) {
    const path = join(dir, log.name);
    for await (const rec of readLogRecords(path, { tolerateTornTail: true, onTail: opts.onWarning })) {
      let ops;
      try {
        ops = decodeWriteBatch(rec.data);
      } catch (err) {
        throw new RocksDbFormatError(path, `bad write batch: ${(err as Error).message}`, rec.offset, err);
      }
      for (const op of ops) {
        const cf = byId.get(op.cf);
        if (!cf) throw new RocksDbFormatError(path, `write batch names unknown column family ${op.cf}`, rec.offset);
        if (log.number < cf.state.logNumber) continue; // already flushed into an SST
        const key = new Uint8Array(op.key.length + 8);
        key.set(op.key, 0);
        const tagLo = ((op.seq % 2 ** 24) * 256 + op.type) >>> 0;
        const tagHi = Math.floor(op.seq / 2 ** 24) >>> 0;
        const dv = new DataView(key.buffer, op.key.length, 8);
        dv.setUint32(0, tagLo, true);
        dv.setUint32(4, tagHi, true);
        cf.memtable.push({ key, value: op.value });
      }
    }
  }
}

/**
 * User-level cursor over one column family: for each user key only the newest entry counts; deletions hide the
 * key. Entry types Pika never writes (merge, blob index, wide columns) are an error naming the file. `key` is a
 * view valid until the next positioning call; `value` a view that stays valid. `next` and `seek` return a promise
 * only when they had to read (`const p = c.next(); if (p) await p;`); awaiting the result always works.
 */
export class CfCursor {
  private readonly it: MergingIterator;
  private readonly cmp: (a: Uint8Array, aLen: number, b: Uint8Array, bLen: number) => number;
  /** Bytewise order: two user keys are the same entry's exactly when their bytes are equal. */
  readonly bytewise: boolean;
  /** The current user key is `keyBuf[0, keyLen)` (overwritten by the next positioning call). */
  keyBuf: Uint8Array = EMPTY;
  keyLen = 0;
  /** The current value is `valueBuf[valueStart, valueEnd)` (stays valid). */
  valueBuf: Uint8Array = EMPTY;
  valueStart = 0;
  valueEnd = 0;
  valid = false;
  /**
   * Other comparators than bytewise (whose equal keys need not be equal bytes): the last user key passed
   * (`skipping`: its remaining entries are being skipped) or sought (`sought`: entries before it were skipped). No
   * entry above it has been passed, so a seek beyond it may move forward only. Bytewise cursors keep no copy: the
   * iterators tell when an entry repeats the previous user key, and a forward seek is one from the current key on.
   */
  private floorBuf = new Uint8Array(64);
  private floorLen = -1;
  private sought = false;
  private skipping = false;

  private readonly onClose: () => Promise<void>;

  constructor(it: MergingIterator, cmp: UserComparator, onClose: () => Promise<void>) {
    this.it = it;
    this.cmp = userKeyComparator(cmp);
    this.bytewise = cmp === bytewiseComparator;
    this.onClose = onClose;
  }

  /** A view of the current user key, valid until the next positioning call. */
  get key(): Uint8Array {
    return this.keyBuf.subarray(0, this.keyLen);
  }

  /** A view of the current value. */
  get value(): Uint8Array {
    return this.valueBuf.subarray(this.valueStart, this.valueEnd);
  }

  /** Releases the files this cursor opened (level >= 1); the cursor is unusable afterwards. */
  async close(): Promise<void> {
    this.valid = false;
    await this.onClose();
  }

  async seekToFirst(): Promise<void> {
    this.floorLen = -1;
    this.skipping = false;
    await this.it.seekToFirst();
    await this.settle();
  }

  /** Positions at the first live user key >= `userKey`. */
  seek(userKey: Uint8Array): Step {
    let forward = false;
    if (this.bytewise) {
      // Every entry passed is below the current (live, newest) entry of the current key.
      forward = this.valid && this.cmp(userKey, userKey.length, this.keyBuf, this.keyLen) >= 0;
    } else if (this.floorLen >= 0) {
      const c = this.cmp(userKey, userKey.length, this.floorBuf, this.floorLen);
      forward = c > 0 || (c === 0 && this.sought && !this.skipping);
    }
    if (!this.bytewise) this.remember(userKey, userKey.length);
    this.sought = true;
    this.skipping = false;
    const p = this.it.seek(seekKeyFor(userKey), forward);
    return p ? p.then(() => this.settle()) : this.settle();
  }

  next(): Step {
    const it = this.it;
    if (!it.valid) {
      this.valid = false;
      return undefined;
    }
    if (!this.bytewise) this.remember(it.keyBuf, it.keyLen - 8);
    this.sought = false;
    this.skipping = true;
    const p = it.next();
    return p ? p.then(() => this.settle()) : this.settle();
  }

  /** Skips the remaining entries of the floor key while `skipping`, and deletions, up to the next live entry. */
  private settle(): Step {
    const it = this.it;
    while (it.valid) {
      const kb = it.keyBuf;
      const userLen = it.keyLen - 8;
      if (!this.skipping || !this.isFloor(kb, userLen)) {
        const type = kb[userLen]!;
        if (type === ValueType.value) {
          this.skipping = false;
          this.keyBuf = kb;
          this.keyLen = userLen;
          this.valueBuf = it.valueBuf;
          this.valueStart = it.valueStart;
          this.valueEnd = it.valueEnd;
          this.valid = true;
          return undefined;
        }
        if (type !== ValueType.deletion && type !== ValueType.singleDeletion) {
          throw new RocksDbFormatError(it.source, `holds an entry of type ${describeValueType(type)}, which Pika never writes`);
        }
        if (!this.bytewise) this.remember(kb, userLen);
        this.sought = false;
        this.skipping = true;
      }
      const p = it.next();
      if (p) return p.then(() => this.settle());
    }
    this.valid = false;
    return undefined;
  }

  /**
   * Whether `buf[0, len)` (the entry just stepped to) is the key being skipped. While skipping, every entry passed
   * since the floor has had the floor's user key, so in bytewise order this is "repeats the previous user key".
   */
  private isFloor(buf: Uint8Array, len: number): boolean {
    if (this.bytewise) return this.it.repeatsUserKey;
    return this.cmp(buf, len, this.floorBuf, this.floorLen) === 0;
  }

  private remember(buf: Uint8Array, len: number): void {
    if (len > this.floorBuf.length) this.floorBuf = new Uint8Array(Math.max(len, this.floorBuf.length * 2));
    const s = this.floorBuf;
    for (let i = 0; i < len; i++) s[i] = buf[i]!;
    this.floorLen = len;
  }
}
