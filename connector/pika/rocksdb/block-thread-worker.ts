// Entry point of the block thread (block-thread.ts): reads windows of data blocks from files the main thread has
// open, verifies and decompresses each block, and hands the contents back as transferred buffers.
import { readSync } from 'node:fs';
import { isMainThread, parentPort } from 'node:worker_threads';
import type { BlockThreadMessage, UnpackReply, UnpackRequest } from './block-thread-protocol.ts';
import { BLOCK_TRAILER, BlockUnpackError, unpackBlockContents } from './block-unpack.ts';
import { initChecksums } from './checksum.ts';

if (!isMainThread && parentPort) {
  const port = parentPort;
  await initChecksums();
  port.on('message', (req: UnpackRequest) => port.postMessage(...unpackWindow(req)));
  port.postMessage({ listening: true } satisfies BlockThreadMessage);
}

function unpackWindow(req: UnpackRequest): [UnpackReply, ArrayBuffer[]] {
  const buf = new Uint8Array(req.length);
  try {
    let read = 0;
    while (read < req.length) {
      const n = readSync(req.fd, buf, read, req.length - read, req.start + read);
      if (n === 0) break;
      read += n;
    }
    if (read < req.length) return [{ id: req.id, readError: `short read (${read} of ${req.length} bytes)` }, []];
  } catch (err) {
    return [{ id: req.id, readError: (err as Error).message }, []];
  }
  const parts: Uint8Array[] = [];
  const failures: { index: number; message: string; offset: number }[] = [];
  let total = 0;
  for (let i = 0; i < req.offsets.length; i++) {
    const offset = req.offsets[i]!;
    const size = req.sizes[i]!;
    const at = offset - req.start;
    let data: Uint8Array;
    try {
      data = unpackBlockContents(req.format, offset, size, buf.subarray(at, at + size + BLOCK_TRAILER), 'data');
    } catch (err) {
      const e = err instanceof BlockUnpackError ? err : new BlockUnpackError((err as Error).message, offset);
      failures.push({ index: i, message: e.message, offset: e.offset });
      data = new Uint8Array(0);
    }
    parts.push(data);
    total += data.length;
  }
  // One buffer for the window: one transfer, and one allocation for the scanning thread's collector to track.
  const out = new Uint8Array(total);
  const ends: number[] = [];
  let end = 0;
  for (const p of parts) {
    out.set(p, end);
    end += p.length;
    ends.push(end);
  }
  return [{ id: req.id, buffer: out.buffer, ends, failures }, [out.buffer]];
}
