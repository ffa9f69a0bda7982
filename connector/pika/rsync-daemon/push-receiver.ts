// The receiving side of a master's push (pika-protocol.md §7.5, §7.6): Pika's slave empties its dbsync
// directory and creates the five type directories before asking for a dump (`Partition::PrepareRsync`), then polls
// until the `info` file appears — the master sends it last, after every data file and the `--delete` passes
// (`PikaServer::DbSyncSendFile`). rsync writes each file under a temporary name and renames it, so an `info` that
// exists is complete.
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The type directories Pika's PrepareRsync creates (rsync only creates the last component of a target path). */
export const BLACKWIDOW_TYPE_DIRS = ['strings', 'hashes', 'lists', 'sets', 'zsets'] as const;

/** Empties `dir` (an earlier, maybe partial push) and recreates it with the type directories. */
export async function prepareReceiveDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const t of BLACKWIDOW_TYPE_DIRS) await mkdir(join(dir, t), { recursive: true });
}

export interface PushProgress {
  files: number;
  bytes: number;
}

export interface WaitForPushOptions {
  signal?: AbortSignal;
  /** Default 500 ms (Pika's slave checks once per state-machine cycle). */
  pollMs?: number;
  /** Called about every `progressEveryMs` (default 5 s) while waiting, with what has arrived so far. */
  onProgress?(progress: PushProgress): void;
  progressEveryMs?: number;
  /** Checked every poll: a returned error ends the wait (daemon failed, login refused…). */
  failure?(): Error | undefined;
}

/** Resolves when `<dir>/info` exists; rejects on abort or when `failure()` reports one. */
export async function waitForPushedDump(dir: string, options: WaitForPushOptions = {}): Promise<void> {
  const pollMs = options.pollMs ?? 500;
  const every = options.progressEveryMs ?? 5000;
  let lastProgress = Date.now();
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new Error('aborted while waiting for the pushed dump');
    const failed = options.failure?.();
    if (failed) throw failed;
    if (await isFile(join(dir, 'info'))) return;
    if (options.onProgress && Date.now() - lastProgress >= every) {
      lastProgress = Date.now();
      options.onProgress(await measure(dir));
    }
    await sleep(pollMs, options.signal);
  }
}

/** Files and bytes under `dir` (two levels: type directories and their files; rsync temp files included). */
export async function measure(dir: string): Promise<PushProgress> {
  const total: PushProgress = { files: 0, bytes: 0 };
  const walk = async (d: string, depth: number): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (depth < 2) await walk(p, depth + 1);
      } else if (e.isFile()) {
        total.files++;
        total.bytes += (await stat(p).catch(() => ({ size: 0 }))).size;
      }
    }
  };
  await walk(dir, 0);
  return total;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((ok) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      ok();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
