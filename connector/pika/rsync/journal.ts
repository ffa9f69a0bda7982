// Resume journal of one DB download: which files of which dump are complete, and how far unfinished files are
// durably written. Saved atomically (temp file fsync'd, then renamed) after each completed file and at each
// in-file checkpoint, so after a crash only the missing parts are fetched again — and only when the master still
// serves the same dump (same snapshot_uuid). An entry never runs ahead of the data: a file is fsync'd before the
// journal records its size or progress.
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RsyncError } from './errors.ts';

export const JOURNAL_FILE = 'rsync-journal.json';

export interface DownloadJournal {
  version: 1;
  db: string;
  snapshot_uuid: string;
  /** Completed files: name → size in bytes. */
  files: Record<string, number>;
  /**
   * Unfinished files: name → bytes from offset 0 that are written and fsync'd. Absent in journals of older
   * versions (read as none).
   */
  partial?: Record<string, number>;
  /** Every listed file is complete and md5(info) matched the uuid. */
  complete: boolean;
}

const sizes = (o: unknown): boolean =>
  o !== null && typeof o === 'object' && Object.values(o).every((n) => Number.isSafeInteger(n) && (n as number) >= 0);

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
    o && o.version === 1 && typeof o.db === 'string' && typeof o.snapshot_uuid === 'string' && typeof o.complete === 'boolean' &&
    sizes(o.files) && (o.partial === undefined || sizes(o.partial));
  if (!ok) throw new RsyncError(`download journal ${path} has an unexpected shape (delete it to download again)`);
  return { ...o, partial: o.partial ?? {} } as DownloadJournal;
}

export async function saveJournal(dir: string, journal: DownloadJournal): Promise<void> {
  const path = join(dir, JOURNAL_FILE);
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify(journal, null, 1));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

export async function removeJournal(dir: string): Promise<void> {
  await rm(join(dir, JOURNAL_FILE), { force: true });
  await rm(join(dir, `${JOURNAL_FILE}.tmp`), { force: true });
}
