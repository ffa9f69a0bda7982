// Resume journal of one DB download: which files of which dump are complete. Written atomically (temp file +
// rename) after each completed file, so after a crash only unfinished files are fetched again — and only when the
// master still serves the same dump (same snapshot_uuid).
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RsyncError } from './errors.ts';

export const JOURNAL_FILE = 'rsync-journal.json';

export interface DownloadJournal {
  version: 1;
  db: string;
  snapshot_uuid: string;
  /** Completed files: name → size in bytes. */
  files: Record<string, number>;
  /** Every listed file is complete and md5(info) matched the uuid. */
  complete: boolean;
}

export async function loadJournal(dir: string): Promise<DownloadJournal | undefined> {
  const path = join(dir, JOURNAL_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (err) {
    throw new RsyncError(`download journal ${path} is not valid JSON (delete it to download again): ${(err as Error).message}`);
  }
  const o = j as Partial<DownloadJournal>;
  const ok =
    o && o.version === 1 && typeof o.db === 'string' && typeof o.snapshot_uuid === 'string' && typeof o.complete === 'boolean' && o.files && typeof o.files === 'object' &&
    Object.values(o.files).every((n) => Number.isSafeInteger(n) && (n as number) >= 0);
  if (!ok) throw new RsyncError(`download journal ${path} has an unexpected shape (delete it to download again)`);
  return o as DownloadJournal;
}

export async function saveJournal(dir: string, journal: DownloadJournal): Promise<void> {
  const path = join(dir, JOURNAL_FILE);
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(journal, null, 1));
  await rename(tmp, path);
}
