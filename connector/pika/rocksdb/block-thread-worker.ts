// Entry point of the block thread (block-thread.ts): reads windows of data blocks from files the main thread has
// open, verifies and decompresses each block, and hands the contents back in one transferred buffer per window.
import { readSync } from 'node:fs';
import { isMainThread, parentPort } from 'node:worker_threads';
import type { BlockThreadMessage, UnpackReply, UnpackRequest } from './block-thread-protocol.ts';
import { BLOCK_TRAILER, BlockUnpackError, undecompressable, verifyBlock } from './block-unpack.ts';
import { initChecksum } from './checksum.ts';
import { CompressionType, uncompressBlock } from './compression.ts';
import { snappyUncompressedLength, snappyUncompressInto } from './snappy.ts';

if (!isMainThread && parentPort) {
  const port = parentPort;
  port.on('message', (req: UnpackRequest) => {
    initChecksum(req.format.checksumType).then(
      () => port.postMessage(...unpackWindow(req)),
      (err: Error) => port.postMessage({ id: req.id, readError: `checksum ${req.format.checksumType} unavailable: ${err.message}` } satisfies UnpackReply),
    );
  });
  port.postMessage({ listening: true } satisfies BlockThreadMessage);
}

/** The raw bytes of the window being unpacked: reused (only the output leaves this thread). */
let scratch = new Uint8Array(256 * 1024);

type Failure = { index: number; message: string; offset: number };

/** One block: snappy to decompress in place, or contents to copy (stored uncompressed, or other compressions). */
interface Planned {
  kind: 'snappy' | 'copy';
  data: Uint8Array;
  length: number;
}

function unpackWindow(req: UnpackRequest): [UnpackReply, ArrayBuffer[]] {
  if (scratch.length < req.length) scratch = new Uint8Array(Math.max(req.length, scratch.length * 2));
  const raw = scratch.subarray(0, req.length);
  try {
    let read = 0;
    while (read < req.length) {
      const n = readSync(req.fd, raw, read, req.length - read, req.start + read);
      if (n === 0) break;
      read += n;
    }
    if (read < req.length) return [{ id: req.id, readError: `short read (${read} of ${req.length} bytes)` }, []];
  } catch (err) {
    return [{ id: req.id, readError: (err as Error).message }, []];
  }
  // Sizes first, so that the blocks decompress straight into the one buffer that is sent.
  const failures: Failure[] = [];
  const plan: (Planned | undefined)[] = [];
  let total = 0;
  for (let i = 0; i < req.offsets.length; i++) {
    const offset = req.offsets[i]!;
    const size = req.sizes[i]!;
    const at = offset - req.start;
    const block = raw.subarray(at, at + size + BLOCK_TRAILER);
    let type = CompressionType.none as number;
    try {
      type = verifyBlock(req.format, offset, size, block, 'data');
      const data = block.subarray(0, size);
      let p: Planned;
      if (type === CompressionType.snappy) p = { kind: 'snappy', data, length: snappyUncompressedLength(data) };
      else {
        const contents = uncompressBlock(type, data);
        p = { kind: 'copy', data: contents, length: contents.length };
      }
      plan.push(p);
      total += p.length;
    } catch (err) {
      failures.push(failure(i, offset, type, err));
      plan.push(undefined);
    }
  }
  const out = new Uint8Array(total);
  const ends: number[] = [];
  let end = 0;
  for (let i = 0; i < plan.length; i++) {
    const p = plan[i];
    if (p) {
      try {
        if (p.kind === 'snappy') snappyUncompressInto(p.data, out, end);
        else out.set(p.data, end);
      } catch (err) {
        failures.push(failure(i, req.offsets[i]!, CompressionType.snappy, err));
      }
      end += p.length;
    }
    ends.push(end);
  }
  return [{ id: req.id, buffer: out.buffer, ends, failures }, [out.buffer]];
}

function failure(index: number, offset: number, type: number, err: unknown): Failure {
  const e = err instanceof BlockUnpackError ? err : undecompressable(type, offset, 'data', err);
  return { index, message: e.message, offset: e.offset };
}
