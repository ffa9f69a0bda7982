// rsync2 client: downloads one DB's dump from a Pika 3.5/4.0 master (pika-protocol.md §7.2) into
// `<dir>/<db>/dump-<snapshot_uuid>/`, with a resume journal in `<dir>/<db>/rsync-journal.json`.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RsyncStatusCode, RsyncType } from '../protocol/messages.ts';
import { CONNECTION_LOST, MAX_READERS, RsyncChannel } from './channel.ts';
import { NewerDumpError, RsyncError, RsyncTimeoutError } from './errors.ts';
import { fetchFile, throwIfAborted } from './file-fetch.ts';
import { checkMetaList, localPath } from './file-names.ts';
import type { RsyncReply } from './reply-decoder.ts';
import { loadJournal, removeJournal, saveJournal, type DownloadJournal } from './journal.ts';
import type { RsyncTransportFactory } from './transport.ts';
import { docRef } from '../../../runtime/api/index.ts';

/** Pika's own client asks for 4 MiB; the master allocates count+1 bytes per request, so never more. */
export const MAX_CHUNK_BYTES = 4 * 1024 * 1024;

/** Default in-file checkpoint interval: at most this much of each unfinished file is fetched again after a crash. */
export const CHECKPOINT_BYTES = 16 * 1024 * 1024;

export interface RsyncProgress {
  db: string;
  snapshotUuid: string;
  filesDone: number;
  filesTotal: number;
  /** Bytes of completed files plus bytes received for files in flight (files and parts kept from the journal included). */
  bytesDone: number;
  /** Bytes received over the network by this call. */
  bytesReceived: number;
}

export interface RsyncDownloadOptions {
  /** DB name as MetaSync lists it (`db0`). Only ever ask for DBs the master announced. */
  db: string;
  /**
   * Local download directory (created if missing). Each DB gets its own subdirectory `<dir>/<db>/`, which this
   * client owns: the journal `rsync-journal.json` and `dump-<uuid>/` (older `dump-*` directories are removed).
   */
  dir: string;
  connect: RsyncTransportFactory;
  /** Concurrent file readers on the one connection, 1..4 (default 4). */
  readers?: number;
  /** Bytes asked per file request, 1..4 MiB (default 4 MiB). */
  chunkBytes?: number;
  /** Reply timeout per request (default 10 s; Pika's own is 1 s with 10 retries). */
  requestTimeoutMs?: number;
  /** Attempts per chunk before giving up (timeouts and kErr; default 10). */
  chunkAttempts?: number;
  /** An unfinished file is fsync'd and its length journaled after every this many bytes (default 16 MiB). */
  checkpointBytes?: number;
  /** Meta polling while the master is still dumping: first delay, cap, and total budget (1 s, 15 s, 30 min). */
  metaPollInitialMs?: number;
  metaPollMaxMs?: number;
  metaPollBudgetMs?: number;
  /** How often a newer dump may restart the download before giving up (default 5). */
  maxRestarts?: number;
  /** Reconnects after a lost connection (with back-off; completed files are kept) before giving up (default 5). */
  maxReconnects?: number;
  onProgress?: (p: RsyncProgress) => void;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /** Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

export interface RsyncDownloadResult {
  db: string;
  snapshotUuid: string;
  /** The directory holding the dump (`info`, `0/`, `1/`…), ready for the dump reader. */
  dumpDir: string;
  files: Record<string, number>;
  /** Files taken from the journal instead of the network. */
  filesResumed: number;
  /** Bytes of unfinished files kept from the journal (fetched again only from there on), by file. */
  partsResumed: Record<string, number>;
  bytesReceived: number;
  restarts: number;
}

type Opts = Required<Omit<RsyncDownloadOptions, 'onProgress' | 'signal'>> & Pick<RsyncDownloadOptions, 'onProgress' | 'signal'>;

function defaults(o: RsyncDownloadOptions): Opts {
  const opts: Opts = {
    readers: 4,
    chunkBytes: MAX_CHUNK_BYTES,
    requestTimeoutMs: 10_000,
    chunkAttempts: 10,
    checkpointBytes: CHECKPOINT_BYTES,
    metaPollInitialMs: 1000,
    metaPollMaxMs: 15_000,
    metaPollBudgetMs: 30 * 60_000,
    maxRestarts: 5,
    maxReconnects: 5,
    onWarning: () => {},
    sleep: defaultSleep,
    now: Date.now,
    ...o,
  };
  if (!Number.isInteger(opts.readers) || opts.readers < 1 || opts.readers > MAX_READERS) {
    throw new RangeError(`rsync2 readers must be 1..${MAX_READERS}, got ${opts.readers}`);
  }
  if (!Number.isInteger(opts.chunkBytes) || opts.chunkBytes < 1 || opts.chunkBytes > MAX_CHUNK_BYTES) {
    throw new RangeError(`rsync2 chunk size must be 1..${MAX_CHUNK_BYTES} bytes, got ${opts.chunkBytes}`);
  }
  if (!Number.isSafeInteger(opts.checkpointBytes) || opts.checkpointBytes < 1) {
    throw new RangeError(`rsync2 checkpoint interval must be a positive number of bytes, got ${opts.checkpointBytes}`);
  }
  return opts;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export const dumpDirName = (uuid: string): string => `dump-${uuid}`;
const dbDirOf = (o: { dir: string; db: string }): string => join(o.dir, o.db);

/**
 * Downloads the dump the master currently offers for `db`. Contracts:
 * - polls meta with back-off while the master answers kErr / no uuid / nothing (bgsave running), within the budget;
 * - files already complete in the journal for the same snapshot_uuid (and of the recorded size on disk) are kept;
 *   unfinished files of that dump are cut to their journaled durable length and continued from there;
 * - every chunk must carry the meta's snapshot_uuid; otherwise the partial download is discarded and started over
 *   (at most `maxRestarts` times);
 * - at the end md5(info) must equal snapshot_uuid and a second meta must still name it;
 * - resolves only with a complete, verified dump; rejects with RsyncError / RsyncTimeoutError / NewerDumpError.
 */
export async function downloadDump(options: RsyncDownloadOptions): Promise<RsyncDownloadResult> {
  const opts = defaults(options);
  if (!/^db\d+$/.test(opts.db)) throw new RangeError(`rsync2 db name must be db<N> as MetaSync lists it, got ${JSON.stringify(opts.db)}`);
  await mkdir(dbDirOf(opts), { recursive: true });
  let restarts = 0;
  let reconnects = 0;
  for (;;) {
    throwIfAborted(opts);
    let channel: RsyncChannel | undefined;
    try {
      channel = new RsyncChannel(await opts.connect(), opts.onWarning);
      const result = await downloadOnce(channel, opts);
      return { ...result, restarts };
    } catch (err) {
      if (err instanceof NewerDumpError && restarts < opts.maxRestarts) {
        restarts++;
        opts.onWarning(`${err.message}; restarting the download (${restarts}/${opts.maxRestarts})`);
      } else if (isConnectionProblem(err, channel) && reconnects < opts.maxReconnects && !opts.signal?.aborted) {
        reconnects++;
        const delay = Math.min(opts.metaPollMaxMs, opts.metaPollInitialMs * 2 ** (reconnects - 1));
        opts.onWarning(`${opts.db}: ${(err as Error).message}; reconnecting in ${delay} ms (${reconnects}/${opts.maxReconnects}), completed files are kept`);
        await opts.sleep(delay, opts.signal);
      } else throw err;
    } finally {
      channel?.close();
    }
  }
}

/** A lost or refused connection (not a protocol or file problem): worth reconnecting. */
function isConnectionProblem(err: unknown, channel: RsyncChannel | undefined): boolean {
  if (err instanceof RsyncError) return err.code === CONNECTION_LOST;
  return channel === undefined && err instanceof Error; // the connect itself failed
}

/** The journal's dump directory when its download completed (for a restart that only needs the local files). */
export async function completedDownload(dir: string, db: string): Promise<{ snapshotUuid: string; dumpDir: string } | undefined> {
  const j = await loadJournal(dbDirOf({ dir, db }));
  if (!j || j.db !== db || !j.complete) return undefined;
  return { snapshotUuid: j.snapshot_uuid, dumpDir: join(dbDirOf({ dir, db }), dumpDirName(j.snapshot_uuid)) };
}

/**
 * Deletes the local copy of dump `snapshotUuid` of `db` (its directory and, when it names that dump, the journal),
 * once its snapshot is safely in Kafka. Another dump's download in the same directory is left alone. True when
 * there was something to delete.
 */
export async function removeDownload(dir: string, db: string, snapshotUuid: string): Promise<boolean> {
  const dbDir = dbDirOf({ dir, db });
  const dumpDir = join(dbDir, dumpDirName(snapshotUuid));
  const j = await loadJournal(dbDir).catch(() => undefined);
  const existed = j?.snapshot_uuid === snapshotUuid || (await stat(dumpDir).then(() => true, () => false));
  if (j?.snapshot_uuid === snapshotUuid) await removeJournal(dbDir);
  await rm(dumpDir, { recursive: true, force: true });
  return existed;
}

async function downloadOnce(channel: RsyncChannel, opts: Opts): Promise<Omit<RsyncDownloadResult, 'restarts'>> {
  const meta = await pollMeta(channel, opts);
  const uuid = meta.snapshot_uuid;
  const names = meta.meta_resp?.filenames ?? [];
  checkMetaList(names, opts.db);

  const dumpDir = join(dbDirOf(opts), dumpDirName(uuid));
  const journal = await prepareJournal(opts, uuid, names, dumpDir);
  const partial = journal.partial!;
  const partsResumed = { ...partial };
  const todo = names.filter((n) => journal.files[n] === undefined);
  const filesResumed = names.length - todo.length;
  const progress: RsyncProgress = {
    db: opts.db,
    snapshotUuid: uuid,
    filesDone: filesResumed,
    filesTotal: names.length,
    bytesDone: [...Object.values(journal.files), ...Object.values(partial)].reduce((a, b) => a + b, 0),
    bytesReceived: 0,
  };
  opts.onProgress?.({ ...progress });

  let journalWrite = Promise.resolve();
  const persist = (): Promise<void> => (journalWrite = journalWrite.then(() => saveJournal(dbDirOf(opts), journal)));
  const queue = [...todo];
  const worker = async (reader: number): Promise<void> => {
    try {
      await drain(reader);
    } catch (err) {
      queue.length = 0; // the other readers stop after their current file
      throw err;
    }
  };
  const drain = async (reader: number): Promise<void> => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const size = await fetchFile(opts, {
        channel,
        uuid,
        reader,
        name,
        path: localPath(dumpDir, name, opts.db),
        startAt: partial[name] ?? 0,
        onBytes: (n) => {
          progress.bytesDone += n;
          progress.bytesReceived += n;
          opts.onProgress?.({ ...progress });
        },
        onCheckpoint: (bytes) => {
          if (journal.files[name] === undefined) partial[name] = bytes;
          return persist();
        },
      });
      journal.files[name] = size;
      delete partial[name];
      progress.filesDone++;
      opts.onProgress?.({ ...progress });
      await persist();
    }
  };
  const workers = Array.from({ length: Math.min(opts.readers, Math.max(1, todo.length)) }, (_, i) => worker(i));
  const settled = await Promise.allSettled(workers);
  await journalWrite.catch(() => {});
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;

  const info = await readFile(join(dumpDir, 'info'));
  const md5 = createHash('md5').update(info).digest('hex');
  if (md5 !== uuid) {
    journal.files = {};
    journal.partial = {};
    await saveJournal(dbDirOf(opts), journal);
    throw new NewerDumpError(opts.db, uuid, md5, 'downloaded info file (md5)');
  }
  // A bgsave started meanwhile (kErr / no reply / another uuid) may have rewritten files under us: start over.
  const again = await requestMeta(channel, opts).catch((err: unknown) => {
    if (err instanceof RsyncTimeoutError) return undefined;
    throw err;
  });
  if (!again || again.code !== RsyncStatusCode.kOk || again.snapshot_uuid !== uuid) {
    const seen = again ? `${again.snapshot_uuid || '""'} (code ${again.code})` : '(no reply)';
    throw new NewerDumpError(opts.db, uuid, seen, 'final meta check');
  }
  journal.complete = true;
  await saveJournal(dbDirOf(opts), journal);
  return { db: opts.db, snapshotUuid: uuid, dumpDir, files: { ...journal.files }, filesResumed, partsResumed, bytesReceived: progress.bytesReceived };
}

function requestMeta(channel: RsyncChannel, opts: Opts): Promise<RsyncReply> {
  return channel.request({ type: RsyncType.kRsyncMeta, reader_index: 0, db_name: opts.db, slot_id: 0 }, opts.requestTimeoutMs);
}

async function pollMeta(channel: RsyncChannel, opts: Opts): Promise<RsyncReply> {
  const start = opts.now();
  let delay = opts.metaPollInitialMs;
  for (let attempt = 1; ; attempt++) {
    let why: string;
    try {
      const r = await requestMeta(channel, opts);
      if (r.type !== RsyncType.kRsyncMeta) throw new RsyncError(`${opts.db}: meta request answered with type ${r.type}`);
      if (r.code === RsyncStatusCode.kOk && /^[0-9a-f]{32}$/.test(r.snapshot_uuid)) return r;
      why =
        r.code === RsyncStatusCode.kOk
          ? `kOk without a dump (uuid ${JSON.stringify(r.snapshot_uuid)}, files ${(r.meta_resp?.filenames ?? []).join(', ') || 'none'})`
          : 'kErr (bgsave still running, or the DB is unknown)';
    } catch (err) {
      if (!(err instanceof RsyncTimeoutError)) throw err;
      why = 'no reply (Pika 3.5.0–3.5.2 do not answer while dumping)';
    }
    throwIfAborted(opts);
    if (opts.now() - start + delay > opts.metaPollBudgetMs) {
      throw new RsyncError(`${opts.db}: the master offered no dump within ${opts.metaPollBudgetMs} ms (${attempt} meta requests; last: ${why}) ${docRef('rsyncDump')}`, {
        code: 'PIKA_RSYNC_NO_DUMP',
        retriable: true,
      });
    }
    opts.onWarning(`${opts.db}: rsync2 meta attempt ${attempt}: ${why}; retrying in ${delay} ms`);
    await opts.sleep(delay, opts.signal);
    delay = Math.min(opts.metaPollMaxMs, delay * 2);
  }
}

/** Loads or resets the journal for `uuid`; removes other dumps' directories and files the journal cannot vouch for. */
async function prepareJournal(opts: Opts, uuid: string, names: string[], dumpDir: string): Promise<DownloadJournal> {
  const old = await loadJournal(dbDirOf(opts));
  const journal: DownloadJournal = { version: 1, db: opts.db, snapshot_uuid: uuid, files: {}, partial: {}, complete: false };
  if (old && old.db === opts.db && old.snapshot_uuid === uuid) {
    for (const n of names) {
      const size = old.files[n];
      const part = old.partial?.[n];
      if (size === undefined && !part) continue;
      const st = await stat(localPath(dumpDir, n, opts.db)).catch(() => undefined);
      if (!st?.isFile()) continue;
      if (size !== undefined && st.size === size) journal.files[n] = size;
      else if (size === undefined && part && st.size >= part) journal.partial![n] = part;
    }
  }
  for (const entry of await readdir(dbDirOf(opts), { withFileTypes: true })) {
    if (entry.isDirectory() && /^dump-[0-9a-f]{32}$/.test(entry.name) && entry.name !== dumpDirName(uuid)) {
      await rm(join(dbDirOf(opts), entry.name), { recursive: true, force: true });
    }
  }
  await mkdir(dumpDir, { recursive: true });
  await saveJournal(dbDirOf(opts), journal);
  return journal;
}
