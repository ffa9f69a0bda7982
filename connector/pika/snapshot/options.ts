import { ConfigError } from '../../../runtime/api/index.ts';
import type { PikaSourceInfo } from '../events/event.ts';

/** What to do with a string (or a single collection element) larger than `maxBytesPerEvent`. */
export type OversizePolicy = 'fail' | 'skip' | 'dlq';

export interface SnapshotOptions {
  /** DB name of the dump (`db0`); the event's `db` is its index. */
  db: string;
  sourceId: string;
  source: PikaSourceInfo;
  /** `snapshot.max.elements.per.event` (default 1000). */
  maxElementsPerEvent?: number;
  /**
   * `snapshot.max.bytes.per.event` (default 512 KiB): bound on the raw bytes of one event's arguments (key,
   * fields, values, members, score texts). The serialized event is larger (base64 in JSON is 4/3, plus the
   * envelope), so keep it well under Kafka's `max.request.size` / `message.max.bytes`.
   */
  maxBytesPerEvent?: number;
  /** `snapshot.oversize.policy` (default fail). */
  oversizePolicy?: OversizePolicy;
  /**
   * Liveness instant: keys expired at it are left out. Default Date.now() when a snapshot starts; a resumed
   * snapshot always uses the instant stored in its position, so both runs see the same keys.
   */
  nowMs?: number;
  /** `ts_ms` of the events (default: the liveness instant). */
  tsMs?: number;
  onWarning?: (message: string) => void;
  /**
   * `snapshot.decode.threads`: worker threads decoding the dump's lanes (RocksDB instances, key ranges) at once;
   * 1 (default) = decode in the task's thread; 0 = the machine's available parallelism.
   */
  decodeThreads?: number;
  /** `snapshot.decode.block.thread`: data blocks decompressed on a helper thread when decoding in the task's thread. */
  blockThread?: boolean;
  /** SSTs smaller than this are read in the task's thread even with the block thread (default 1 MiB; tests lower it). */
  blockThreadMinFileBytes?: number;
  /**
   * Dumps whose meta SSTs (≈ their key count) hold fewer bytes are decoded in the task's thread (default 32 MiB;
   * tests lower it).
   */
  minParallelBytes?: number;
  /**
   * Meta SST bytes per lane: an instance with more is cut into key ranges decoded apart (default 16 MiB, at most
   * 4 per instance). Part of what a resume position names: keep it for the life of a snapshot (tests lower it).
   */
  laneBytes?: number;
}

export interface ResolvedSnapshotOptions extends Required<Omit<SnapshotOptions, 'nowMs' | 'tsMs' | 'decodeThreads' | 'blockThread' | 'blockThreadMinFileBytes' | 'minParallelBytes' | 'laneBytes'>> {
  dbIndex: number;
  nowMs: number | undefined;
  tsMs: number | undefined;
}

export const DEFAULT_MAX_ELEMENTS_PER_EVENT = 1000;
export const DEFAULT_MAX_BYTES_PER_EVENT = 512 * 1024;

export function resolveSnapshotOptions(o: SnapshotOptions): ResolvedSnapshotOptions {
  const problems: string[] = [];
  const m = /^db(\d+)$/.exec(o.db);
  if (!m) problems.push(`snapshot db ${JSON.stringify(o.db)} is not of the form db<N>`);
  const maxElementsPerEvent = o.maxElementsPerEvent ?? DEFAULT_MAX_ELEMENTS_PER_EVENT;
  const maxBytesPerEvent = o.maxBytesPerEvent ?? DEFAULT_MAX_BYTES_PER_EVENT;
  const oversizePolicy = o.oversizePolicy ?? 'fail';
  if (!Number.isSafeInteger(maxElementsPerEvent) || maxElementsPerEvent < 1) problems.push(`snapshot.max.elements.per.event must be an integer ≥ 1, got ${maxElementsPerEvent}`);
  if (!Number.isSafeInteger(maxBytesPerEvent) || maxBytesPerEvent < 1) problems.push(`snapshot.max.bytes.per.event must be an integer ≥ 1, got ${maxBytesPerEvent}`);
  if (!['fail', 'skip', 'dlq'].includes(oversizePolicy)) problems.push(`snapshot.oversize.policy must be fail, skip or dlq, got ${JSON.stringify(oversizePolicy)}`);
  if (problems.length) throw new ConfigError(problems, 'Invalid snapshot options');
  return {
    db: o.db,
    dbIndex: Number(m![1]),
    sourceId: o.sourceId,
    source: o.source,
    maxElementsPerEvent,
    maxBytesPerEvent,
    oversizePolicy,
    nowMs: o.nowMs,
    tsMs: o.tsMs,
    onWarning: o.onWarning ?? (() => {}),
  };
}
