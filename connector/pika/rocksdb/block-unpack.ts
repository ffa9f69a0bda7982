import { blockChecksum, checksumContextModifier } from './checksum.ts';
import { readU32 } from './coding.ts';
import { compressionName, uncompressBlock } from './compression.ts';

/** Bytes after each block's contents: compression type u8 ‖ checksum u32 LE. */
export const BLOCK_TRAILER = 5;

/** What a table's footer says about its blocks' trailers. */
export interface BlockTrailerFormat {
  checksumType: number;
  baseContextChecksum: number;
}

/** A block that fails its checksum or cannot be decompressed; the table reader names the file. */
export class BlockUnpackError extends Error {
  readonly offset: number;

  constructor(message: string, offset: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'BlockUnpackError';
    this.offset = offset;
  }
}

/**
 * Verifies the trailer checksum of `raw` (a block's contents and 5-byte trailer, read at file offset `offset`)
 * and returns the uncompressed contents; contents stored uncompressed are a view of `raw`. Needs
 * `initChecksum(format.checksumType)` to have been awaited in this thread.
 */
export function unpackBlockContents(format: BlockTrailerFormat, offset: number, size: number, raw: Uint8Array, what: string): Uint8Array {
  const type = verifyBlock(format, offset, size, raw, what);
  try {
    return uncompressBlock(type, raw.subarray(0, size));
  } catch (err) {
    throw undecompressable(type, offset, what, err);
  }
}

/** Checks the trailer checksum of `raw` (as `unpackBlockContents`) and returns the block's compression type. */
export function verifyBlock(format: BlockTrailerFormat, offset: number, size: number, raw: Uint8Array, what: string): number {
  const type = raw[size]!;
  const stored = readU32(raw, size + 1);
  const computed = blockChecksum(format.checksumType, raw.subarray(0, size), type);
  if (computed !== undefined) {
    const expected = (computed + checksumContextModifier(format.baseContextChecksum, offset)) >>> 0;
    if (expected !== stored) {
      throw new BlockUnpackError(`${what} block checksum mismatch (stored 0x${stored.toString(16)}, computed 0x${expected.toString(16)})`, offset);
    }
  }
  return type;
}

export function undecompressable(type: number, offset: number, what: string, err: unknown): BlockUnpackError {
  return new BlockUnpackError(`${what} block (${compressionName(type)}) cannot be decompressed: ${(err as Error).message}`, offset, err);
}
