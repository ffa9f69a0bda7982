// The source offset of snapshot events (a flat map, stored like any Kafka Connect offset). It names the last
// emitted event, so resuming = yielding exactly the events after it, for the same dump:
//   { phase: 'snapshot', dump_uuid, now_ms,
//     stage: 'start' | 'keys' | 'end'          — kind of the last emitted event (start/end = control events),
//     instance, data_type, key_b64             — the key the event belongs to (null for control events),
//     part                                     — its part number (1-based) within that key,
//     elements                                 — the key's elements consumed up to and including this part,
//     key_done                                 — true when it was the key's last part,
//     prev_key_b64                             — the key visited before `key_b64` in the same instance (null when
//                                                `key_b64` is the instance's first): lets a resume re-enter a
//                                                half-emitted key with the dump reader's "start after" option,
//     seq, keys, elements_total, skipped       — running counters (events incl. control, keys completed,
//                                                elements emitted, elements/strings left out by the oversize policy) }
import { ConnectError, type SourceOffset } from '../../../runtime/api/index.ts';

export type SnapshotStage = 'start' | 'keys' | 'end';

export interface SnapshotPosition {
  phase: 'snapshot';
  dump_uuid: string;
  now_ms: number;
  stage: SnapshotStage;
  instance: string | null;
  data_type: string | null;
  key_b64: string | null;
  part: number;
  elements: number;
  key_done: boolean;
  prev_key_b64: string | null;
  seq: number;
  keys: number;
  elements_total: number;
  skipped: number;
}

export function positionToOffset(p: SnapshotPosition): SourceOffset {
  return { ...p };
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStrOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Parses a committed snapshot offset; a clear error when it is not one this module wrote. */
export function parseSnapshotPosition(offset: SourceOffset): SnapshotPosition {
  const o = offset as Record<string, unknown>;
  const bad = (what: string): never => {
    throw new ConnectError(`committed offset ${JSON.stringify(offset).slice(0, 500)} is not a snapshot position: ${what}`, {
      code: 'PIKA_BAD_SNAPSHOT_OFFSET',
      stage: 'offsets',
    });
  };
  if (o.phase !== 'snapshot') bad('phase is not "snapshot"');
  if (typeof o.dump_uuid !== 'string' || !/^[0-9a-f]{32}$/.test(o.dump_uuid)) bad('dump_uuid must be 32 lowercase hex digits');
  if (!isCount(o.now_ms)) bad('now_ms must be a non-negative integer');
  if (o.stage !== 'start' && o.stage !== 'keys' && o.stage !== 'end') bad('stage must be start, keys or end');
  for (const f of ['instance', 'data_type', 'key_b64', 'prev_key_b64']) if (!isStrOrNull(o[f])) bad(`${f} must be a string or null`);
  for (const f of ['part', 'elements', 'seq', 'keys', 'elements_total', 'skipped']) if (!isCount(o[f])) bad(`${f} must be a non-negative integer`);
  if (typeof o.key_done !== 'boolean') bad('key_done must be a boolean');
  for (const f of ['key_b64', 'prev_key_b64']) if (typeof o[f] === 'string' && !B64.test(o[f] as string)) bad(`${f} is not base64`);
  if (o.stage === 'keys' && (o.instance === null || o.key_b64 === null || (o.part as number) < 1)) bad('a keys position needs instance, key_b64 and part ≥ 1');
  return o as unknown as SnapshotPosition;
}

/** True for offsets written by the snapshot (as opposed to binlog offsets of the same source partition). */
export function isSnapshotOffset(offset: SourceOffset | null | undefined): boolean {
  return offset?.phase === 'snapshot';
}
