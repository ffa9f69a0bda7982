import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { crc32c, unmaskCrc } from './checksum.ts';
import { readU16, readU32 } from './coding.ts';
import { RocksDbFormatError } from './errors.ts';

/**
 * Reader of RocksDB's log format, used by the MANIFEST and WAL files (`db/log_format.h`, `db/log_reader.cc`):
 * 32 KiB blocks of physical records `crc u32 | length u16 | type u8 | [log number u32, recyclable types] | data`;
 * a block tail shorter than a header is zero padding. FULL, or FIRST MIDDLE* LAST, make one logical record.
 * The CRC (masked crc32c) covers type byte, log number (recyclable) and data.
 */
const BLOCK_SIZE = 32768;
const HEADER = 7;
const RECYCLABLE_HEADER = 11;

const RecordType = {
  zero: 0,
  full: 1,
  first: 2,
  middle: 3,
  last: 4,
  recyclableFull: 5,
  recyclableFirst: 6,
  recyclableMiddle: 7,
  recyclableLast: 8,
  setCompressionType: 9,
  userDefinedTimestampSize: 10,
  recyclableUserDefinedTimestampSize: 11,
} as const;

export interface LogRecord {
  data: Uint8Array;
  /** File offset of the record's first physical fragment. */
  offset: number;
}

export interface LogReadOptions {
  /**
   * WAL semantics (RocksDB's default `kPointInTimeRecovery`): a torn last record, or zero-filled preallocated
   * space, ends the log; `onTail` hears about it. MANIFESTs are read strictly (any damage is an error).
   */
  tolerateTornTail?: boolean;
  onTail?: (message: string) => void;
}

/** Streams the logical records of one log file, reading one 32 KiB block at a time. */
export async function* readLogRecords(path: string, opts: LogReadOptions = {}): AsyncGenerator<LogRecord> {
  const name = basename(path);
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const block = new Uint8Array(BLOCK_SIZE);
    let pending: Uint8Array[] | undefined;
    let pendingOffset = 0;
    const fail = (offset: number, problem: string): never => {
      throw new RocksDbFormatError(path, problem, offset);
    };
    const tornTail = (offset: number, problem: string): 'stop' => {
      if (!opts.tolerateTornTail) fail(offset, problem);
      opts.onTail?.(`${name}: log ends at offset ${offset}: ${problem}`);
      return 'stop';
    };
    for (let blockStart = 0; blockStart < size; blockStart += BLOCK_SIZE) {
      const len = Math.min(BLOCK_SIZE, size - blockStart);
      await fh.read(block, 0, len, blockStart);
      let p = 0;
      while (p + HEADER <= len) {
        const recOffset = blockStart + p;
        const type = block[p + 6]!;
        const length = readU16(block, p + 4);
        const storedCrc = readU32(block, p);
        if (type === RecordType.zero && length === 0) {
          // Zero padding or preallocated space: RocksDB treats it as the end of the written log.
          if (isAllZero(block.subarray(p, len))) {
            if (pending) tornTail(recOffset, 'log ends inside a fragmented record');
            return;
          }
          fail(recOffset, 'zero-type record followed by data');
        }
        const recyclable = type >= RecordType.recyclableFull && type <= RecordType.recyclableLast || type === RecordType.recyclableUserDefinedTimestampSize;
        const headerSize = recyclable ? RECYCLABLE_HEADER : HEADER;
        if (p + headerSize + length > len) {
          if (tornTail(recOffset, `record of ${length} bytes runs past the end of its block/file`) === 'stop') return;
        }
        const crc = crc32c(block.subarray(p + 6, p + headerSize + length));
        if (crc !== unmaskCrc(storedCrc)) {
          if (blockStart + p + headerSize + length >= size && tornTail(recOffset, 'checksum mismatch in the last record') === 'stop') return;
          fail(recOffset, 'log record checksum mismatch');
        }
        const data = block.slice(p + headerSize, p + headerSize + length);
        p += headerSize + length;
        switch (type) {
          case RecordType.full:
          case RecordType.recyclableFull:
            if (pending) fail(recOffset, 'FULL record inside a fragmented record');
            yield { data, offset: recOffset };
            break;
          case RecordType.first:
          case RecordType.recyclableFirst:
            if (pending) fail(recOffset, 'FIRST record inside a fragmented record');
            pending = [data];
            pendingOffset = recOffset;
            break;
          case RecordType.middle:
          case RecordType.recyclableMiddle:
            if (!pending) fail(recOffset, 'MIDDLE record without FIRST');
            pending!.push(data);
            break;
          case RecordType.last:
          case RecordType.recyclableLast: {
            if (!pending) fail(recOffset, 'LAST record without FIRST');
            pending!.push(data);
            yield { data: Buffer.concat(pending!), offset: pendingOffset };
            pending = undefined;
            break;
          }
          case RecordType.setCompressionType:
            fail(recOffset, 'compressed WAL records (wal_compression) are not supported');
            break;
          case RecordType.userDefinedTimestampSize:
          case RecordType.recyclableUserDefinedTimestampSize:
            break; // metadata about user-defined timestamps; Pika uses none
          default:
            fail(recOffset, `unknown log record type ${type}`);
        }
      }
    }
    if (pending) tornTail(pendingOffset, 'log ends inside a fragmented record');
  } finally {
    await fh.close();
  }
}

function isAllZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}
