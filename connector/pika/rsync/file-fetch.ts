// One file of a dump, fetched chunk by chunk by one reader (pika-protocol.md §7.2). The next chunk is requested
// while the previous one is still being written (one positional writev of the reply's views into the received
// socket chunks, no gathering copy; one write in flight), and every `checkpointBytes` the file is fsync'd in the background and its durable length handed to the
// journal, so a crash re-fetches only the part after the last checkpoint.
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RsyncStatusCode, RsyncType } from '../protocol/messages.ts';
import type { RsyncChannel } from './channel.ts';
import { NewerDumpError, RsyncError, RsyncTimeoutError } from './errors.ts';
import type { RsyncReply } from './reply-decoder.ts';

export interface FetchSettings {
  db: string;
  chunkBytes: number;
  requestTimeoutMs: number;
  chunkAttempts: number;
  /** Bytes written between two in-file checkpoints (fsync + journal). */
  checkpointBytes: number;
  signal?: AbortSignal;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  onWarning(message: string): void;
}

export interface FileFetch {
  channel: RsyncChannel;
  uuid: string;
  reader: number;
  name: string;
  path: string;
  /** Durable bytes from an earlier attempt (the journal's partial entry): the file is cut there and continued. */
  startAt: number;
  onBytes(n: number): void;
  /** `bytes` from offset 0 are written and fsync'd; the journal may say so. */
  onCheckpoint(bytes: number): Promise<void>;
}

export function throwIfAborted(s: Pick<FetchSettings, 'db' | 'signal'>): void {
  if (s.signal?.aborted) throw new RsyncError(`${s.db}: rsync2 download aborted`, { code: 'PIKA_RSYNC_ABORTED', retriable: true });
}

/** Fetches the rest of one file; resolves with its size once it is complete and fsync'd. */
export async function fetchFile(s: FetchSettings, f: FileFetch): Promise<number> {
  await mkdir(dirname(f.path), { recursive: true });
  const fh = await open(f.path, f.startAt > 0 ? 'r+' : 'w');
  let offset = f.startAt;
  let written = f.startAt;
  let writing: Promise<void> | undefined;
  let checkpoint: Promise<void> | undefined;
  let durable = f.startAt;
  /** fsync covers every write completed before it starts: `at` bytes are durable once it resolves. */
  const startCheckpoint = (at: number): void => {
    durable = at;
    checkpoint = fh.sync().then(() => f.onCheckpoint(at));
  };
  try {
    if (f.startAt > 0) await fh.truncate(f.startAt); // bytes past the checkpoint were never confirmed durable
    for (;;) {
      throwIfAborted(s);
      const r = await fetchChunk(s, f, offset);
      await writing;
      const fr = r.file_resp!;
      const count = Number(fr.count);
      const at = offset;
      writing = count > 0 ? writeAll(fh, fr.data, at).then(() => void (written = at + count)) : undefined;
      offset += count;
      f.onBytes(count);
      if (fr.eof === 1) break;
      if (count === 0) throw new RsyncError(`${s.db}: ${f.name}@${offset}: the master returned 0 bytes without eof`);
      if (written - durable >= s.checkpointBytes) {
        const at = written;
        await checkpoint; // one checkpoint at a time; it is usually long done
        startCheckpoint(at);
      }
    }
    await writing;
    writing = undefined;
    await checkpoint;
    checkpoint = undefined;
    await fh.sync();
    return offset;
  } catch (err) {
    // Keep what is already on disk for the next attempt (reconnect, restart after a stop): best effort.
    await writing?.catch(() => {});
    await checkpoint?.catch(() => {});
    if (written > durable) {
      startCheckpoint(written);
      await checkpoint!.catch(() => {});
    }
    throw err;
  } finally {
    await fh.close();
  }
}

/** Linux takes at most IOV_MAX (1024) buffers per writev; a 4 MiB chunk arrives in ~64 socket reads. */
const MAX_IOV = 1024;

async function writeAll(fh: FileHandle, data: Buffer[], position: number): Promise<void> {
  for (let i = 0; i < data.length; ) {
    const batch = data.slice(i, i + MAX_IOV);
    const want = batch.reduce((n, b) => n + b.length, 0);
    let done = (await fh.writev(batch, position)).bytesWritten;
    if (done < want) {
      // A short write (rare for regular files): the rest of this batch one buffer at a time.
      const rest = Buffer.concat(batch);
      while (done < want) done += (await fh.write(rest, done, want - done, position + done)).bytesWritten;
    }
    i += batch.length;
    position += want;
  }
}

async function fetchChunk(s: FetchSettings, f: FileFetch, offset: number): Promise<RsyncReply> {
  const where = `${f.name}@${offset}`;
  for (let attempt = 1; ; attempt++) {
    let problem: string;
    try {
      const r = await f.channel.request(
        {
          type: RsyncType.kRsyncFile,
          reader_index: f.reader,
          db_name: s.db,
          slot_id: 0,
          file_req: { filename: f.name, count: s.chunkBytes, offset },
        },
        s.requestTimeoutMs,
      );
      if (r.snapshot_uuid !== f.uuid && (r.code === RsyncStatusCode.kOk || r.snapshot_uuid !== '')) {
        throw new NewerDumpError(s.db, f.uuid, r.snapshot_uuid, `reply for ${where}`);
      }
      if (r.code === RsyncStatusCode.kOk) {
        checkChunk(r, s, f.name, offset);
        return r;
      }
      problem = `kErr (file missing or unreadable on the master)`;
    } catch (err) {
      if (!(err instanceof RsyncTimeoutError)) throw err;
      problem = err.message;
    }
    if (attempt >= s.chunkAttempts) {
      throw new RsyncError(`${s.db}: rsync2 ${where} failed ${attempt} times; last: ${problem}`, { code: 'PIKA_RSYNC_CHUNK', retriable: true });
    }
    s.onWarning(`${s.db}: rsync2 ${where} attempt ${attempt}: ${problem}; retrying`);
    await s.sleep(Math.min(1000 * attempt, 5000), s.signal);
  }
}

function checkChunk(r: RsyncReply, s: FetchSettings, name: string, offset: number): void {
  const fr = r.file_resp;
  const bad = (why: string): never => {
    throw new RsyncError(`${s.db}: rsync2 reply for ${name}@${offset} is inconsistent: ${why}`, { code: 'PIKA_RSYNC_BAD_REPLY' });
  };
  if (!fr) return bad('kOk without file_resp');
  if (fr.filename !== name) bad(`names file ${JSON.stringify(fr.filename)}`);
  if (fr.offset !== BigInt(offset)) bad(`echoes offset ${fr.offset}`);
  if (fr.count > BigInt(s.chunkBytes)) bad(`returns ${fr.count} bytes, more than the ${s.chunkBytes} asked`);
  if (BigInt(fr.length) !== fr.count) bad(`count ${fr.count} but ${fr.length} data bytes`);
  if (fr.eof !== 0 && fr.eof !== 1) bad(`eof ${fr.eof}`);
}
