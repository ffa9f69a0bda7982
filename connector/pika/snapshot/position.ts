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
//                                                elements emitted, elements/strings left out by the oversize policy),
//     lanes                                    — progress of every lane (dump/lanes.ts: parts decoded in parallel,
//                                                whose events interleave), a JSON object in a string (offsets are
//                                                flat): lane id → "done", or [data_type, key_b64, part, elements,
//                                                key_done, prev_key_b64] of the lane's last emitted event, as above;
//                                                a lane not named has emitted nothing yet. Offsets written before
//                                                lanes existed lack it: lanes were then read one after the other,
//                                                so the ones before `instance` are done and `instance`'s is the
//                                                top-level fields. }
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
  lanes?: string;
}

/** Where one lane's emission stands: its last emitted event's key and part (fields as in the position). */
export interface LaneState {
  data_type: string;
  key_b64: string;
  part: number;
  elements: number;
  key_done: boolean;
  prev_key_b64: string | null;
}

/**
 * Every lane's progress, serialised into the position's `lanes` string, once per event: so it is built by string
 * concatenation (lane ids, data types and base64 need no JSON escaping) from one cached fragment per lane.
 */
export class LaneProgress {
  private readonly index = new Map<string, { at: number; quoted: string }>();
  private readonly parts: string[] = [];
  private text: string | undefined;

  constructor(states: Map<string, LaneState | 'done'> = new Map()) {
    for (const [id, s] of states) s === 'done' ? this.done(id) : this.set(id, s);
  }

  set(id: string, s: LaneState): void {
    const prev = s.prev_key_b64 === null ? 'null' : `"${s.prev_key_b64}"`;
    this.put(id, (quoted) => `${quoted}:["${s.data_type}","${s.key_b64}",${s.part},${s.elements},${s.key_done},${prev}]`);
  }

  done(id: string): void {
    this.put(id, (quoted) => `${quoted}:"done"`);
  }

  toString(): string {
    return (this.text ??= `{${this.parts.join(',')}}`);
  }

  private put(id: string, fragment: (quotedId: string) => string): void {
    let lane = this.index.get(id);
    if (lane === undefined) {
      lane = { at: this.parts.length, quoted: JSON.stringify(id) };
      this.index.set(id, lane);
    }
    this.parts[lane.at] = fragment(lane.quoted);
    this.text = undefined;
  }
}

/** The lanes of a position's `lanes` string (validated), or a clear error. */
export function parseLanes(text: string): Map<string, LaneState | 'done'> {
  const bad = (what: string): never => {
    throw new ConnectError(`committed snapshot offset has a bad lanes field ${JSON.stringify(text.slice(0, 300))}: ${what}`, { code: 'PIKA_BAD_SNAPSHOT_OFFSET', stage: 'offsets' });
  };
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return bad('not JSON');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return bad('not an object');
  const out = new Map<string, LaneState | 'done'>();
  for (const [id, v] of Object.entries(o)) {
    if (v === 'done') {
      out.set(id, 'done');
      continue;
    }
    if (!Array.isArray(v) || v.length !== 6) return bad(`lane ${id} is neither "done" nor a 6-item array`);
    const [data_type, key_b64, part, elements, key_done, prev_key_b64] = v as unknown[];
    if (typeof data_type !== 'string' || typeof key_b64 !== 'string' || !B64.test(key_b64)) bad(`lane ${id}: bad data_type / key_b64`);
    if (!isCount(part) || part < 1 || !isCount(elements) || typeof key_done !== 'boolean') bad(`lane ${id}: bad part / elements / key_done`);
    if (prev_key_b64 !== null && (typeof prev_key_b64 !== 'string' || !B64.test(prev_key_b64))) bad(`lane ${id}: bad prev_key_b64`);
    out.set(id, { data_type, key_b64, part, elements, key_done, prev_key_b64 } as LaneState);
  }
  return out;
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
  if (o.lanes !== undefined && typeof o.lanes !== 'string') bad('lanes must be a string');
  if (typeof o.lanes === 'string') parseLanes(o.lanes);
  for (const f of ['key_b64', 'prev_key_b64']) if (typeof o[f] === 'string' && !B64.test(o[f] as string)) bad(`${f} is not base64`);
  if (o.stage === 'keys' && (o.instance === null || o.key_b64 === null || (o.part as number) < 1)) bad('a keys position needs instance, key_b64 and part ≥ 1');
  return o as unknown as SnapshotPosition;
}

/** True for offsets written by the snapshot (as opposed to binlog offsets of the same source partition). */
export function isSnapshotOffset(offset: SourceOffset | null | undefined): boolean {
  return offset?.phase === 'snapshot';
}
