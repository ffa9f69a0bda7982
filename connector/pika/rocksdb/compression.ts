import { inflateRawSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { ByteReader } from './coding.ts';
import { lz4UncompressBlock } from './lz4.ts';
import { snappyUncompress } from './snappy.ts';

/** CompressionType byte of a block trailer (`include/rocksdb/compression_type.h`). */
export const CompressionType = {
  none: 0,
  snappy: 1,
  zlib: 2,
  bzip2: 3,
  lz4: 4,
  lz4hc: 5,
  xpress: 6,
  zstd: 7,
} as const;

const NAMES: Record<number, string> = { 0: 'none', 1: 'snappy', 2: 'zlib', 3: 'bzip2', 4: 'lz4', 5: 'lz4hc', 6: 'xpress', 7: 'zstd' };

export function compressionName(type: number): string {
  return NAMES[type] ?? `unknown(${type})`;
}

/**
 * Decompresses one block's contents. With block-based format_version >= 2 ("compress_format_version 2"), zlib,
 * lz4 and zstd payloads start with a varint32 uncompressed size; snappy carries its own.
 */
export function uncompressBlock(type: number, data: Uint8Array): Uint8Array {
  switch (type) {
    case CompressionType.none:
      return data;
    case CompressionType.snappy:
      return snappyUncompress(data);
    case CompressionType.zlib: {
      const r = new ByteReader(data);
      const size = r.varint32();
      const out = inflateRawSync(data.subarray(r.pos));
      if (out.length !== size) throw new Error(`zlib: got ${out.length} bytes, expected ${size}`);
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    }
    case CompressionType.lz4:
    case CompressionType.lz4hc: {
      const r = new ByteReader(data);
      const size = r.varint32();
      return lz4UncompressBlock(data.subarray(r.pos), size);
    }
    case CompressionType.zstd: {
      const r = new ByteReader(data);
      const size = r.varint32();
      const out = zstdDecompress(data.subarray(r.pos), new Uint8Array(size));
      if (out.length !== size) throw new Error(`zstd: got ${out.length} bytes, expected ${size}`);
      return out;
    }
    default:
      throw new Error(`unsupported block compression ${compressionName(type)}`);
  }
}
