import type { BlockTrailerFormat } from './block-unpack.ts';

/** Read `length` bytes at `start` of the open file `fd` and unpack the blocks found at `offsets` / `sizes` in it. */
export interface UnpackRequest {
  id: number;
  fd: number;
  start: number;
  length: number;
  offsets: number[];
  sizes: number[];
  format: BlockTrailerFormat;
}

/**
 * The blocks' contents one after the other in one transferred buffer (block i = [ends[i-1], ends[i]); a block that
 * failed is empty there and listed in `failures`), or why the window could not be read.
 */
export type UnpackReply =
  | { id: number; buffer: ArrayBuffer; ends: number[]; failures: { index: number; message: string; offset: number }[] }
  | { id: number; readError: string };

/** From the block thread: it is listening (once, first), then one reply per request. */
export type BlockThreadMessage = { listening: true } | UnpackReply;
