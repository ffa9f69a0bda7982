import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { comparatorByName, type UserComparator } from './comparators.ts';
import { RocksDbFormatError } from './errors.ts';
import { describeValueType, parseInternalKey, userKeyOf, ValueType } from './internal-key.ts';
import { MemIterator, MergingIterator, seekKeyFor, TableIterator, type InternalIterator } from './iterators.ts';
import { LevelIterator, openTable } from './level-iterator.ts';
import { readLogRecords } from './log-reader.ts';
import { readDbState, type ColumnFamilyState, type DbState, type SstFileMeta } from './manifest.ts';
import type { Table } from './table.ts';
import { decodeWriteBatch } from './write-batch.ts';

export interface OpenDbOptions {
  /** Called for recoverable oddities, e.g. a torn WAL tail (RocksDB's point-in-time recovery stops there too). */
  onWarning?: (message: string) => void;
}

interface CfData {
  state: ColumnFamilyState;
  comparator: UserComparator;
  /** Level-0 files (overlapping), newest first; open for the life of the ReadOnlyDb. */
  level0: Table[];
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

  private constructor(dir: string, state: DbState, cfs: Map<string, CfData>) {
    this.dir = dir;
    this.state = state;
    this.cfs = cfs;
  }

  static async open(dir: string, opts: OpenDbOptions = {}): Promise<ReadOnlyDb> {
    const state = await readDbState(dir);
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
        for (const f of l0) data.level0.push(await openTable(dir, f, cf));
        const maxLevel = Math.max(0, ...files.map((f) => f.level));
        for (let level = 1; level <= maxLevel; level++) {
          const inLevel = files.filter((f) => f.level === level);
          if (inLevel.length) data.levels.push(inLevel);
        }
      }
      await replayWals(dir, state, byId, opts);
    } catch (err) {
      for (const cf of cfs.values()) for (const t of cf.level0) await t.close().catch(() => undefined);
      throw err;
    }
    return new ReadOnlyDb(dir, state, cfs);
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
    for (const t of data.level0) children.push(new TableIterator(t, data.comparator));
    for (const files of data.levels) {
      const it = new LevelIterator(this.dir, files, data.state, data.comparator);
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
    for (const cf of this.cfs.values()) for (const t of cf.level0) await t.close();
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
 * key. Entry types Pika never writes (merge, blob index, wide columns) are an error naming the file.
 */
export class CfCursor {
  private readonly it: MergingIterator;
  private readonly cmp: UserComparator;
  key: Uint8Array = new Uint8Array(0);
  value: Uint8Array = new Uint8Array(0);
  valid = false;

  private readonly onClose: () => Promise<void>;

  constructor(it: MergingIterator, cmp: UserComparator, onClose: () => Promise<void>) {
    this.it = it;
    this.cmp = cmp;
    this.onClose = onClose;
  }

  /** Releases the files this cursor opened (level >= 1); the cursor is unusable afterwards. */
  async close(): Promise<void> {
    this.valid = false;
    await this.onClose();
  }

  async seekToFirst(): Promise<void> {
    await this.it.seekToFirst();
    await this.settle();
  }

  /** Positions at the first live user key >= `userKey`. */
  async seek(userKey: Uint8Array): Promise<void> {
    await this.it.seek(seekKeyFor(userKey));
    await this.settle();
  }

  async next(): Promise<void> {
    await this.skipKey(this.key);
    await this.settle();
  }

  private async skipKey(userKey: Uint8Array): Promise<void> {
    while (this.it.valid && this.cmp.compare(userKeyOf(this.it.key), userKey) === 0) await this.it.next();
  }

  private async settle(): Promise<void> {
    while (this.it.valid) {
      const ik = parseInternalKey(this.it.key);
      if (ik.type === ValueType.value) {
        this.key = ik.userKey;
        this.value = this.it.value;
        this.valid = true;
        return;
      }
      if (ik.type !== ValueType.deletion && ik.type !== ValueType.singleDeletion) {
        throw new RocksDbFormatError(this.it.source, `holds an entry of type ${describeValueType(ik.type)}, which Pika never writes`);
      }
      await this.skipKey(ik.userKey);
    }
    this.valid = false;
  }
}
