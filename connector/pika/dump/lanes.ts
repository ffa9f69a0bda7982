import { join } from 'node:path';
import { compareBytes } from '../rocksdb/coding.ts';
import { sstPath } from '../rocksdb/level-iterator.ts';
import { readDbState, type SstFileMeta } from '../rocksdb/manifest.ts';
import { Table } from '../rocksdb/table.ts';
import type { BlackwidowInstance } from './blackwidow-format.ts';
import { readBlackwidowInstance } from './blackwidow-reader.ts';
import type { DumpLayout } from './dump-reader.ts';
import { readFloydInstance } from './floyd-reader.ts';
import type { DumpReaderOptions, DumpRecord } from './types.ts';

/**
 * A lane is a part of a DB's dump that can be decoded on its own: one RocksDB instance (Floyd `0`, `1`, …;
 * Blackwidow `strings`, `hashes`, …), or, for an instance with a big meta column family, a range of its raw meta
 * keys [`from`, `until`) (id `<instance>:<n>`). Lanes and their ranges depend on the dump's files only, so a resume
 * position can name them. Within a lane keys come in the instance's key order; all records of a key come from one
 * lane.
 */
export interface DumpLane {
  id: string;
  instance: string;
  /** First raw meta key of the lane (inclusive); none = the instance's first. */
  from?: Uint8Array;
  /** End of the lane's raw meta keys (exclusive); none = the instance's end. */
  until?: Uint8Array;
  /** About the bytes of meta SSTs the lane covers: a measure of its key count (the per-key work of decoding). */
  metaBytes: number;
}

/** An instance is cut into one lane per this many bytes of meta column family SSTs, up to MAX_RANGES lanes. */
export const DEFAULT_LANE_BYTES = 16 * 1024 * 1024;
const MAX_RANGES = 4;

/** The lanes of a DB's dump, in order; `laneBytes` is the size of meta SSTs per lane (tests make it small). */
export async function dumpLanes(dbDir: string, layout: DumpLayout, laneBytes = DEFAULT_LANE_BYTES): Promise<DumpLane[]> {
  const lanes: DumpLane[] = [];
  for (const instance of layout.instances) {
    const dir = join(dbDir, instance);
    const state = await readDbState(dir);
    const meta = [...state.columnFamilies.values()].find((c) => c.name === 'default');
    const files = meta ? [...meta.files.values()] : [];
    const metaBytes = files.reduce((n, f) => n + f.size, 0);
    const ranges = Math.min(MAX_RANGES, Math.max(1, Math.floor(metaBytes / Math.max(1, laneBytes))));
    const splits = ranges > 1 ? await splitKeys(dir, files, ranges) : [];
    if (splits.length === 0) {
      lanes.push({ id: instance, instance, metaBytes });
      continue;
    }
    for (let i = 0; i <= splits.length; i++) {
      lanes.push({
        id: `${instance}:${i}`,
        instance,
        metaBytes: Math.round(metaBytes / (splits.length + 1)),
        ...(i > 0 ? { from: splits[i - 1]! } : {}),
        ...(i < splits.length ? { until: splits[i]! } : {}),
      });
    }
  }
  return lanes;
}

/**
 * Up to `ranges - 1` ascending raw meta keys cutting the instance into ranges of about equal size: index separators
 * of the biggest meta SST at equal block counts (the meta column family is bytewise-ordered in both layouts).
 */
async function splitKeys(dir: string, files: SstFileMeta[], ranges: number): Promise<Uint8Array[]> {
  const biggest = [...files].sort((a, b) => b.size - a.size || a.number - b.number)[0]!;
  const table = await Table.open(sstPath(dir, biggest.number));
  try {
    const blocks = table.dataBlocks;
    const out: Uint8Array[] = [];
    for (let i = 1; i < ranges; i++) {
      const at = Math.floor((i * blocks.count) / ranges);
      if (at < 1) continue;
      const sep = blocks.key(at - 1);
      const key = Uint8Array.from(table.properties.indexKeyIsUserKey ? sep : sep.subarray(0, sep.length - 8));
      if (key.length > 0 && (out.length === 0 || compareBytes(out.at(-1)!, key) < 0)) out.push(key);
    }
    return out;
  } finally {
    await table.close();
  }
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
  const { instance, from, until } = task.lane;
  const o = {
    ...opts,
    ...(task.after ? { after: { instance, key: task.after } } : {}),
    ...(from || until ? { range: { ...(from ? { from } : {}), ...(until ? { until } : {}) } } : {}),
  };
  return kind === 'floyd' ? readFloydInstance(dbDir, db, instance, o) : readBlackwidowInstance(dbDir, db, instance as BlackwidowInstance, o);
}

