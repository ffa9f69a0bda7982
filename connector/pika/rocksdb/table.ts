import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { Block, BlockIter } from './block.ts';
import { BlockIndex } from './block-index.ts';
import { BLOCK_TRAILER, BlockUnpackError, unpackBlockContents } from './block-unpack.ts';
import { initChecksum } from './checksum.ts';
import { ByteReader, readU32, readU64 } from './coding.ts';
import { RocksDbFormatError } from './errors.ts';

/**
 * Block-based table (SST) reader, format_version 2–6 (`table/format.cc` Footer, `block_based_table_reader.cc`).
 * Only the footer, metaindex, properties and index are held in memory; data blocks are read by each iterator's
 * DataBlockReader.
 */
export const BLOCK_BASED_MAGIC = 0x88e241b785f4cff7n;
export const LEGACY_BLOCK_BASED_MAGIC = 0xdb4775248b80fb57n;
const NEW_FOOTER_LENGTH = 53;

export interface BlockHandle {
  offset: number;
  size: number;
}

export interface Footer {
  checksumType: number;
  formatVersion: number;
  metaindex: BlockHandle;
  /** Undefined from format_version 6 on (then found in the metaindex as `rocksdb.index`). */
  index: BlockHandle | undefined;
  baseContextChecksum: number;
}

export const IndexType = { binarySearch: 0, hashSearch: 1, twoLevel: 2, binarySearchWithFirstKey: 3 } as const;

export interface TableProperties {
  raw: Map<string, Uint8Array>;
  comparator: string | undefined;
  columnFamilyId: number | undefined;
  indexType: number;
  indexKeyIsUserKey: boolean;
  indexValueIsDeltaEncoded: boolean;
  numEntries: number | undefined;
  numRangeDeletions: number;
}

export function decodeBlockHandle(r: ByteReader): BlockHandle {
  return { offset: r.varint64(), size: r.varint64() };
}

export class Table {
  readonly path: string;
  readonly name: string;
  readonly fileSize: number;
  readonly footer: Footer;
  readonly properties: TableProperties;
  /** Index separators (internal keys, or user keys when `indexKeyIsUserKey`) and data block handles. */
  readonly dataBlocks = new BlockIndex();
  private readonly fh: FileHandle;

  private constructor(path: string, fh: FileHandle, size: number, footer: Footer, props: TableProperties) {
    this.path = path;
    this.name = basename(path);
    this.fh = fh;
    this.fileSize = size;
    this.footer = footer;
    this.properties = props;
  }

  static async open(path: string): Promise<Table> {
    const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
      throw new RocksDbFormatError(path, `cannot be opened (${err.code ?? err.message}); the MANIFEST lists it as live`, undefined, err);
    });
    try {
      const { size } = await fh.stat();
      const footer = await readFooter(fh, path, size);
      await initChecksum(footer.checksumType);
      const probe = new Table(path, fh, size, footer, emptyProps());
      const metaindex = await probe.readMetaindex();
      const propsHandle = metaindex.get('rocksdb.properties');
      const props = propsHandle ? parseProperties(await probe.readBlock(propsHandle, 'properties')) : emptyProps();
      const table = new Table(path, fh, size, footer, props);
      if (metaindex.has('rocksdb.compression_dict')) {
        throw new RocksDbFormatError(path, 'uses a compression dictionary, which this reader does not support');
      }
      if (props.raw.has('rocksdb.external_sst_file.version')) {
        throw new RocksDbFormatError(path, 'is an ingested external SST (global sequence numbers are not supported); Pika never ingests files');
      }
      if (props.numRangeDeletions > 0) {
        throw new RocksDbFormatError(path, `holds ${props.numRangeDeletions} range deletions (DeleteRange), which Pika never writes`);
      }
      if (props.indexType === IndexType.binarySearchWithFirstKey) {
        throw new RocksDbFormatError(path, 'uses index type kBinarySearchWithFirstKey, which this reader does not support');
      }
      const indexHandle = footer.index ?? metaindex.get('rocksdb.index');
      if (!indexHandle) throw new RocksDbFormatError(path, 'has no index block');
      await table.loadIndex(indexHandle);
      return table;
    } catch (err) {
      await fh.close();
      if (err instanceof RocksDbFormatError) throw err;
      throw new RocksDbFormatError(path, `cannot be read: ${(err as Error).message}`, undefined, err);
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** Reads, verifies and decompresses one block. */
  async readBlock(handle: BlockHandle, what: string): Promise<Uint8Array> {
    const total = handle.size + BLOCK_TRAILER;
    this.checkBlockBounds(handle, what);
    const buf = new Uint8Array(total);
    await this.readInto(buf, handle.offset, what);
    return this.unpackBlock(handle, buf, what);
  }

  /** Throws when a block handle points past the end of the file. */
  checkBlockBounds(handle: BlockHandle, what: string): void {
    if (handle.offset + handle.size + BLOCK_TRAILER > this.fileSize) {
      throw new RocksDbFormatError(this.path, `${what} block [${handle.offset}+${handle.size}] lies beyond the end of the file (${this.fileSize} bytes; truncated?)`, handle.offset);
    }
  }

  /** Fills `buf` from file offset `offset`; a short read is an error. */
  async readInto(buf: Uint8Array, offset: number, what: string): Promise<void> {
    const { bytesRead } = await this.fh.read(buf, 0, buf.length, offset);
    if (bytesRead < buf.length) throw new RocksDbFormatError(this.path, `short read of ${what} block`, offset);
  }

  /**
   * Verifies the trailer checksum of `raw` (block contents and 5-byte trailer, as read at `handle.offset`) and
   * returns the uncompressed contents. Uncompressed contents are a view of `raw`.
   */
  unpackBlock(handle: BlockHandle, raw: Uint8Array, what: string): Uint8Array {
    try {
      return unpackBlockContents(this.footer, handle.offset, handle.size, raw, what);
    } catch (err) {
      throw this.unpackFailure(err);
    }
  }

  /** A block that failed to unpack (here or on the block thread), as an error naming this table's file. */
  unpackFailure(err: unknown): RocksDbFormatError {
    if (err instanceof BlockUnpackError) return new RocksDbFormatError(this.path, err.message, err.offset, err.cause);
    return new RocksDbFormatError(this.path, `cannot be read: ${(err as Error).message}`, undefined, err);
  }

  /** The open file's descriptor (reads at an offset from another thread are safe while the table stays open). */
  get fd(): number {
    return this.fh.fd;
  }

  private async readMetaindex(): Promise<Map<string, BlockHandle>> {
    const it = new BlockIter(new Block(await this.readBlock(this.footer.metaindex, 'metaindex')));
    const out = new Map<string, BlockHandle>();
    for (it.seekToFirst(); it.valid; it.next()) {
      out.set(latin1(it.key), decodeBlockHandle(new ByteReader(it.value)));
    }
    return out;
  }

  private async loadIndex(handle: BlockHandle): Promise<void> {
    const p = this.properties;
    const top = await this.readBlock(handle, 'index');
    if (p.indexType === IndexType.twoLevel) {
      const partitions = new BlockIndex();
      this.decodeIndexBlock(top, handle.offset, partitions);
      for (let i = 0; i < partitions.count; i++) {
        const h = partitions.handle(i);
        this.decodeIndexBlock(await this.readBlock(h, 'index partition'), h.offset, this.dataBlocks);
      }
    } else {
      this.decodeIndexBlock(top, handle.offset, this.dataBlocks);
    }
    this.dataBlocks.trim();
  }

  private decodeIndexBlock(data: Uint8Array, offset: number, into: BlockIndex): void {
    const p = this.properties;
    try {
      const it = new BlockIter(new Block(data), p.indexValueIsDeltaEncoded);
      let prev: BlockHandle | undefined;
      for (it.seekToFirst(); it.valid; it.next()) {
        const r = new ByteReader(it.data, it.valueStart, it.valueEnd);
        let h: BlockHandle;
        if (p.indexValueIsDeltaEncoded && it.sharesKey && prev) {
          const delta = r.varsigned64();
          h = { offset: prev.offset + prev.size + BLOCK_TRAILER, size: prev.size + delta };
        } else h = decodeBlockHandle(r);
        into.add(it.keyBuf, it.keyLen, h);
        prev = h;
      }
    } catch (err) {
      if (err instanceof RocksDbFormatError) throw err;
      throw new RocksDbFormatError(this.path, `index block is corrupted: ${(err as Error).message}`, offset, err);
    }
  }
}

async function readFooter(fh: FileHandle, path: string, size: number): Promise<Footer> {
  if (size < NEW_FOOTER_LENGTH) throw new RocksDbFormatError(path, `is ${size} bytes, too short to be an SST file (truncated?)`);
  const buf = new Uint8Array(NEW_FOOTER_LENGTH);
  await fh.read(buf, 0, NEW_FOOTER_LENGTH, size - NEW_FOOTER_LENGTH);
  const magic = readU64(buf, NEW_FOOTER_LENGTH - 8);
  if (magic === LEGACY_BLOCK_BASED_MAGIC) {
    throw new RocksDbFormatError(path, 'uses the legacy block-based format (format_version 0/1), not supported');
  }
  if (magic !== BLOCK_BASED_MAGIC) {
    throw new RocksDbFormatError(path, `bad table magic 0x${magic.toString(16)} (not a block-based SST, or truncated)`, size - 8);
  }
  const formatVersion = readU32(buf, NEW_FOOTER_LENGTH - 12);
  if (formatVersion < 2 || formatVersion > 6) {
    throw new RocksDbFormatError(path, `unsupported format_version ${formatVersion}`, size - NEW_FOOTER_LENGTH);
  }
  const checksumType = buf[0]!;
  const r = new ByteReader(buf, 1, NEW_FOOTER_LENGTH - 12);
  if (formatVersion >= 6) {
    if (buf[1] !== 0x3e || buf[2] !== 0x00 || buf[3] !== 0x7a || buf[4] !== 0x00) {
      throw new RocksDbFormatError(path, 'bad extended footer magic', size - NEW_FOOTER_LENGTH);
    }
    const baseContextChecksum = readU32(buf, 9);
    const metaindexSize = readU32(buf, 13);
    const footerOffset = size - NEW_FOOTER_LENGTH;
    return {
      checksumType,
      formatVersion,
      metaindex: { offset: footerOffset - BLOCK_TRAILER - metaindexSize, size: metaindexSize },
      index: undefined,
      baseContextChecksum,
    };
  }
  try {
    const metaindex = decodeBlockHandle(r);
    const index = decodeBlockHandle(r);
    return { checksumType, formatVersion, metaindex, index, baseContextChecksum: 0 };
  } catch (err) {
    throw new RocksDbFormatError(path, `corrupted footer: ${(err as Error).message}`, size - NEW_FOOTER_LENGTH, err);
  }
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

function emptyProps(): TableProperties {
  return {
    raw: new Map(),
    comparator: undefined,
    columnFamilyId: undefined,
    indexType: IndexType.binarySearch,
    indexKeyIsUserKey: false,
    indexValueIsDeltaEncoded: false,
    numEntries: undefined,
    numRangeDeletions: 0,
  };
}

function parseProperties(data: Uint8Array): TableProperties {
  const raw = new Map<string, Uint8Array>();
  const it = new BlockIter(new Block(data));
  for (it.seekToFirst(); it.valid; it.next()) raw.set(latin1(it.key), it.value);
  const num = (k: string): number | undefined => {
    const v = raw.get(k);
    return v === undefined ? undefined : new ByteReader(v).varint64();
  };
  const str = (k: string): string | undefined => {
    const v = raw.get(k);
    return v === undefined ? undefined : Buffer.from(v).toString('latin1');
  };
  const indexTypeRaw = raw.get('rocksdb.block.based.table.index.type');
  const cf = num('rocksdb.column.family.id');
  return {
    raw,
    comparator: str('rocksdb.comparator'),
    columnFamilyId: cf === undefined || cf === 0x7fffffff ? undefined : cf,
    indexType: indexTypeRaw && indexTypeRaw.length >= 4 ? readU32(indexTypeRaw, 0) : IndexType.binarySearch,
    indexKeyIsUserKey: (num('rocksdb.index.key.is.user.key') ?? 0) !== 0,
    indexValueIsDeltaEncoded: (num('rocksdb.index.value.is.delta.encoded') ?? 0) !== 0,
    numEntries: num('rocksdb.num.entries'),
    numRangeDeletions: num('rocksdb.num.range-deletions') ?? 0,
  };
}
