// One rsync2 connection shared by up to 4 readers (pika-protocol.md §7.2). The master serves requests on a pool of
// threads, so replies may come out of order; like Pika's own client (WaitObjectManager), a reply is matched to its
// request by (type, reader_index) and, for files, (filename, offset). Replies nobody waits for are dropped.
import { encodeFrame } from '../protocol/frame-decoder.ts';
import { encodeRsyncRequest, RsyncType, type RsyncRequestInput } from '../protocol/messages.ts';
import { RsyncError, RsyncTimeoutError } from './errors.ts';
import { decodeReply, FrameSplitter, type RsyncReply } from './reply-decoder.ts';
import type { RsyncTransport } from './transport.ts';

/** Pika's master indexes a fixed array of 4 readers without a bounds check: anything else crashes it. */
export const MAX_READERS = 4;

/** Error code of requests that failed because the connection went away. */
export const CONNECTION_LOST = 'PIKA_RSYNC_CONNECTION_LOST';

interface Pending {
  resolve(r: RsyncReply): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

function matchKey(type: number, reader: number, filename?: string, offset?: bigint | number): string {
  return type === RsyncType.kRsyncFile ? `f:${reader}:${filename}:${BigInt(offset ?? 0)}` : `m:${reader}`;
}

export class RsyncChannel {
  /** Replies hold at most one ≤ 4 MiB chunk (or a meta list): anything near this limit is garbage. */
  private readonly frames = new FrameSplitter(64 * 1024 * 1024);
  private readonly pending = new Map<string, Pending>();
  private closedWith: Error | undefined;
  /** Replies that matched no outstanding request (late replies after a timeout). */
  unmatched = 0;

  constructor(
    private readonly transport: RsyncTransport,
    private readonly onWarning: (message: string) => void = () => {},
  ) {
    transport.onData((chunk) => this.receive(chunk));
    transport.onClose((err) =>
      this.fail(new RsyncError(`rsync2 connection closed${err ? `: ${err.message}` : ''}`, { code: CONNECTION_LOST, retriable: true, cause: err })),
    );
  }

  /**
   * Sends one request and resolves with its reply. Rejects with `RsyncTimeoutError` after `timeoutMs`, or with
   * `RsyncError` when the connection breaks or a reply is malformed. At most one request per match key may be
   * outstanding. `reader_index` outside 0..3 is refused before anything is sent.
   */
  request(req: RsyncRequestInput, timeoutMs: number): Promise<RsyncReply> {
    if (!Number.isInteger(req.reader_index) || req.reader_index < 0 || req.reader_index >= MAX_READERS) {
      return Promise.reject(new RangeError(`rsync2 reader_index must be 0..${MAX_READERS - 1}, got ${req.reader_index}`));
    }
    if (this.closedWith) return Promise.reject(this.closedWith);
    const key = matchKey(req.type, req.reader_index, req.file_req?.filename, req.file_req?.offset);
    if (this.pending.has(key)) return Promise.reject(new Error(`rsync2 request ${key} is already outstanding`));
    const what = req.file_req ? `file ${req.file_req.filename}@${req.file_req.offset} (${req.db_name})` : `meta (${req.db_name})`;
    return new Promise<RsyncReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        reject(new RsyncTimeoutError(what, timeoutMs));
      }, timeoutMs);
      this.pending.set(key, { resolve, reject, timer });
      this.transport.write(encodeFrame(encodeRsyncRequest(req)));
    });
  }

  close(): void {
    this.fail(new RsyncError('rsync2 connection closed by the client', { code: CONNECTION_LOST, retriable: true }));
    this.transport.close();
  }

  private receive(chunk: Uint8Array): void {
    let responses: RsyncReply[];
    try {
      responses = this.frames.push(chunk).map(decodeReply);
    } catch (err) {
      this.fail(new RsyncError(`rsync2 reply from the master is malformed: ${(err as Error).message}`, { cause: err }));
      this.transport.close();
      return;
    }
    for (const r of responses) {
      const key = matchKey(r.type, r.reader_index, r.file_resp?.filename, r.file_resp?.offset);
      let waiter = this.pending.get(key);
      // A kErr file reply has no file_resp to match on: give it to the reader's only outstanding file request.
      if (!waiter && r.type === RsyncType.kRsyncFile && !r.file_resp) {
        const prefix = `f:${r.reader_index}:`;
        const keys = [...this.pending.keys()].filter((k) => k.startsWith(prefix));
        if (keys.length === 1) waiter = this.pending.get(keys[0]!);
        if (waiter) this.pending.delete(keys[0]!);
      } else if (waiter) this.pending.delete(key);
      if (!waiter) {
        this.unmatched++;
        this.onWarning(`rsync2: dropped a reply nobody waits for (${key}, code ${r.code})`);
        continue;
      }
      clearTimeout(waiter.timer);
      waiter.resolve(r);
    }
  }

  private fail(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}
