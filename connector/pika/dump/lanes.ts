import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlackwidowInstance } from './blackwidow-format.ts';
import { readBlackwidowInstance } from './blackwidow-reader.ts';
import type { DumpLayout } from './dump-reader.ts';
import { readFloydInstance } from './floyd-reader.ts';
import type { DumpReaderOptions, DumpRecord } from './types.ts';

/**
 * A lane is a part of a DB's dump that can be decoded on its own, independently of the others: one RocksDB
 * instance (Floyd `0`, `1`, …; Blackwidow `strings`, `hashes`, …). Lanes are listed in a fixed order that depends
 * on the dump only, so a resume position can name them. Within a lane keys come in the instance's key order, and
 * all records of a key come from one lane.
 */
export interface DumpLane {
  id: string;
  instance: string;
}

export function dumpLanes(layout: DumpLayout): DumpLane[] {
  return layout.instances.map((instance) => ({ id: instance, instance }));
}

/** A lane to read, with where to resume in it (strictly after `after`, a user key of the lane). */
export interface LaneTask {
  lane: DumpLane;
  after?: Uint8Array;
}

/** The records of one lane, decoded in this thread. */
export function readLane(
  dbDir: string,
  db: string,
  kind: DumpLayout['kind'],
  task: LaneTask,
  opts: DumpReaderOptions & { nowMs: number },
): AsyncGenerator<DumpRecord[]> {
  const { instance } = task.lane;
  const o = { ...opts, ...(task.after ? { after: { instance, key: task.after } } : {}) };
  return kind === 'floyd' ? readFloydInstance(dbDir, db, instance, o) : readBlackwidowInstance(dbDir, db, instance as BlackwidowInstance, o);
}

/** Bytes of all files under `dir` (to decide whether decoding in worker threads is worth their start-up). */
export async function dumpBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}
