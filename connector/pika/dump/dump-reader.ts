import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BLACKWIDOW_INSTANCES, type BlackwidowInstance } from './blackwidow-format.ts';
import { readBlackwidowInstance } from './blackwidow-reader.ts';
import { DumpFormatError } from './errors.ts';
import { readFloydInstance } from './floyd-reader.ts';
import type { DumpReaderOptions, DumpRecord } from './types.ts';

/**
 * Entry point: the per-key records of one DB directory of a Pika dump (`…/<date>/db0`), whichever storage
 * layout it has. Instances are visited in `layout.instances` order, so a KeyPosition is a resume point.
 */
export type DumpLayout = { kind: 'floyd'; instances: string[] } | { kind: 'blackwidow'; instances: BlackwidowInstance[] };

export async function detectLayout(dbDir: string): Promise<DumpLayout> {
  const entries = await readdir(dbDir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw new DumpFormatError(dbDir, `cannot be listed (${err.code ?? err.message})`, undefined, err);
  });
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  const numeric = dirs.filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(a) - Number(b));
  const typed = BLACKWIDOW_INSTANCES.filter((t) => dirs.includes(t));
  if (numeric.length > 0 && typed.length === 0) {
    numeric.forEach((d, i) => {
      if (Number(d) !== i) throw new DumpFormatError(dbDir, `instance directories ${numeric.join(', ')} are not 0…${numeric.length - 1}`);
    });
    return { kind: 'floyd', instances: numeric };
  }
  if (typed.length > 0 && numeric.length === 0) return { kind: 'blackwidow', instances: typed };
  throw new DumpFormatError(dbDir, `neither a Floyd (0/ 1/ …) nor a Blackwidow (strings/ hashes/ …) dump; found directories: ${dirs.join(', ') || 'none'}`);
}

/**
 * The DB directories of a downloaded dump (`<dump>/db0`, `db1`, … for 3.1+), or the dump directory itself when it
 * is a single keyspace (3.0: `strings/ hashes/ …` directly under the dated directory).
 */
export async function listDumpDbs(dumpDir: string): Promise<{ db: string; dir: string }[]> {
  const entries = await readdir(dumpDir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw new DumpFormatError(dumpDir, `cannot be listed (${err.code ?? err.message})`, undefined, err);
  });
  const dbs = entries
    .filter((e) => e.isDirectory() && /^db\d+$/.test(e.name))
    .map((e) => e.name)
    .sort((a, b) => Number(a.slice(2)) - Number(b.slice(2)));
  if (dbs.length) return dbs.map((db) => ({ db, dir: join(dumpDir, db) }));
  await detectLayout(dumpDir); // throws a clear error when this is not a dump at all
  return [{ db: 'db0', dir: dumpDir }];
}

/** The records of one DB directory, one at a time (see `readDbDumpBatches`, which costs less per record). */
export async function* readDbDump(dbDir: string, db: string, options: DumpReaderOptions = {}): AsyncGenerator<DumpRecord> {
  for await (const batch of readDbDumpBatches(dbDir, db, options)) for (const r of batch) yield r;
}

/** The records of one DB directory in batches (bounded in count and bytes; never empty). */
export async function* readDbDumpBatches(dbDir: string, db: string, options: DumpReaderOptions = {}): AsyncGenerator<DumpRecord[]> {
  const opts = { ...options, nowMs: options.nowMs ?? Date.now() };
  const layout = await detectLayout(dbDir);
  const instances: string[] = layout.instances;
  let start = 0;
  if (opts.after) {
    start = instances.indexOf(opts.after.instance);
    if (start < 0) throw new DumpFormatError(dbDir, `resume position names instance "${opts.after.instance}", which this dump does not have (${instances.join(', ')})`);
  }
  if (layout.kind === 'blackwidow' && (await isDir(join(dbDir, 'streams')))) {
    opts.onWarning?.(`${dbDir}: the streams database is not exported (Pika 3.5 does not full-sync streams; its replicas miss them too)`);
  }
  for (let i = start; i < instances.length; i++) {
    const instance = instances[i]!;
    if (layout.kind === 'floyd') yield* readFloydInstance(dbDir, db, instance, opts);
    else yield* readBlackwidowInstance(dbDir, db, instance as BlackwidowInstance, opts);
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
