import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ByteReader } from './coding.ts';
import { RocksDbFormatError } from './errors.ts';
import { readLogRecords } from './log-reader.ts';

/**
 * The live state of a RocksDB directory: `CURRENT` names the MANIFEST, whose records are VersionEdits
 * (`db/version_edit.h` Tag, `db/version_edit.cc` DecodeFrom) applied in order.
 */
export interface SstFileMeta {
  number: number;
  level: number;
  size: number;
  /** Smallest and largest internal keys in the file. */
  smallest: Uint8Array;
  largest: Uint8Array;
  smallestSeq: number;
  largestSeq: number;
}

export interface ColumnFamilyState {
  id: number;
  name: string;
  comparator: string;
  /** WAL files with a smaller number hold nothing for this column family any more. */
  logNumber: number;
  /** Live SST files keyed by file number. */
  files: Map<number, SstFileMeta>;
}

export interface DbState {
  manifest: string;
  columnFamilies: Map<number, ColumnFamilyState>;
  logNumber: number;
  prevLogNumber: number;
  lastSequence: number;
  nextFileNumber: number;
}

const Tag = {
  comparator: 1,
  logNumber: 2,
  nextFileNumber: 3,
  lastSequence: 4,
  compactCursor: 5,
  deletedFile: 6,
  newFile: 7,
  prevLogNumber: 9,
  minLogNumberToKeep: 10,
  newFile2: 100,
  newFile3: 102,
  newFile4: 103,
  columnFamily: 200,
  columnFamilyAdd: 201,
  columnFamilyDrop: 202,
  maxColumnFamily: 203,
  inAtomicGroup: 300,
  blobFileAddition: 400,
  blobFileGarbage: 401,
} as const;
const TAG_SAFE_IGNORE_MASK = 1 << 13;
const NEW_FILE_TERMINATE = 1;
const NEW_FILE_CUSTOM_NON_SAFE_IGNORE = 1 << 6;
const NEW_FILE_PATH_ID = NEW_FILE_CUSTOM_NON_SAFE_IGNORE + 1;

export async function readCurrentManifestName(dir: string): Promise<string> {
  const path = join(dir, 'CURRENT');
  const text = await readFile(path, 'latin1').catch((err: NodeJS.ErrnoException) => {
    throw new RocksDbFormatError(path, `cannot be read (${err.code ?? err.message}); is ${dir} a RocksDB directory?`, undefined, err);
  });
  const name = text.endsWith('\n') ? text.slice(0, -1) : '';
  if (!/^MANIFEST-\d+$/.test(name)) throw new RocksDbFormatError(path, `does not name a MANIFEST (content ${JSON.stringify(text)})`);
  return name;
}

export async function readDbState(dir: string): Promise<DbState> {
  const manifestName = await readCurrentManifestName(dir);
  const path = join(dir, manifestName);
  const state: DbState = {
    manifest: path,
    columnFamilies: new Map([[0, { id: 0, name: 'default', comparator: 'leveldb.BytewiseComparator', logNumber: 0, files: new Map() }]]),
    logNumber: 0,
    prevLogNumber: 0,
    lastSequence: 0,
    nextFileNumber: 0,
  };
  for await (const rec of readLogRecords(path)) {
    try {
      applyEdit(state, new ByteReader(rec.data));
    } catch (err) {
      if (err instanceof RocksDbFormatError) throw err;
      throw new RocksDbFormatError(path, `bad version edit: ${(err as Error).message}`, rec.offset, err);
    }
  }
  return state;
}

function applyEdit(state: DbState, r: ByteReader): void {
  let cfId = 0;
  let comparator: string | undefined;
  let logNumber: number | undefined;
  let addName: string | undefined;
  let drop = false;
  const added: SstFileMeta[] = [];
  const deleted: { level: number; number: number }[] = [];
  while (r.remaining > 0) {
    const tag = r.varint32();
    switch (tag) {
      case Tag.comparator:
        comparator = Buffer.from(r.lengthPrefixed()).toString('latin1');
        break;
      case Tag.logNumber:
        logNumber = r.varint64();
        break;
      case Tag.nextFileNumber:
        state.nextFileNumber = r.varint64();
        break;
      case Tag.lastSequence:
        state.lastSequence = r.varint64();
        break;
      case Tag.prevLogNumber:
        state.prevLogNumber = r.varint64();
        break;
      case Tag.minLogNumberToKeep:
        r.varint64();
        break;
      case Tag.compactCursor:
        r.varint32();
        r.lengthPrefixed();
        break;
      case Tag.deletedFile:
        deleted.push({ level: r.varint32(), number: r.varint64() });
        break;
      case Tag.newFile:
      case Tag.newFile2:
      case Tag.newFile3:
      case Tag.newFile4:
        added.push(decodeNewFile(tag, r));
        break;
      case Tag.columnFamily:
        cfId = r.varint32();
        break;
      case Tag.columnFamilyAdd:
        addName = Buffer.from(r.lengthPrefixed()).toString('latin1');
        break;
      case Tag.columnFamilyDrop:
        drop = true;
        break;
      case Tag.maxColumnFamily:
        r.varint32();
        break;
      case Tag.inAtomicGroup:
        r.varint32();
        break;
      case Tag.blobFileAddition:
      case Tag.blobFileGarbage:
        throw new Error('blob files (enable_blob_files) are not supported');
      default:
        if (tag & TAG_SAFE_IGNORE_MASK) r.lengthPrefixed();
        else throw new Error(`unknown version edit tag ${tag}`);
    }
  }
  if (addName !== undefined) {
    state.columnFamilies.set(cfId, { id: cfId, name: addName, comparator: 'leveldb.BytewiseComparator', logNumber: 0, files: new Map() });
  }
  if (drop) {
    state.columnFamilies.delete(cfId);
    return;
  }
  const cf = state.columnFamilies.get(cfId);
  if (!cf) {
    if (added.length || deleted.length) throw new Error(`edit for unknown column family ${cfId}`);
    return;
  }
  if (comparator !== undefined) cf.comparator = comparator;
  if (logNumber !== undefined) {
    cf.logNumber = logNumber;
    state.logNumber = Math.max(state.logNumber, logNumber);
  }
  for (const d of deleted) cf.files.delete(d.number);
  for (const f of added) cf.files.set(f.number, f);
}

function decodeNewFile(tag: number, r: ByteReader): SstFileMeta {
  const level = r.varint32();
  const number = r.varint64();
  if (tag === Tag.newFile3) r.varint32(); // path id
  const size = r.varint64();
  const smallest = Uint8Array.from(r.lengthPrefixed());
  const largest = Uint8Array.from(r.lengthPrefixed());
  let smallestSeq = 0;
  let largestSeq = 0;
  if (tag !== Tag.newFile) {
    smallestSeq = r.varint64();
    largestSeq = r.varint64();
  }
  if (tag === Tag.newFile4) {
    for (;;) {
      const custom = r.varint32();
      if (custom === NEW_FILE_TERMINATE) break;
      const field = r.lengthPrefixed();
      if (custom === NEW_FILE_PATH_ID) {
        if (field.length !== 1 || field[0] !== 0) throw new Error(`SST ${number} lives in another db_path, not supported`);
      } else if (custom & NEW_FILE_CUSTOM_NON_SAFE_IGNORE) {
        throw new Error(`SST ${number} has an unknown mandatory field ${custom}`);
      }
    }
  }
  return { number, level, size, smallest, largest, smallestSeq, largestSeq };
}
