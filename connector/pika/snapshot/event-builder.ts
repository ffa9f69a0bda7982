// Snapshot and control events (the shared PikaEvent model, connector/pika/events/event.ts).
//
// Ops of snapshot events (event_type "snapshot"); `[op, ...args_b64]` replays the part, then, when
// `expire_at_ms` is not null, `PEXPIREAT key expire_at_ms`:
//   string → set   [key, value]                 (a Pika HyperLogLog carries warning "pika-hyperloglog": the value is
//                                                Pika's own register array, not a Redis HLL)
//   hash   → hset  [key, f1, v1, f2, v2, …]
//   set    → sadd  [key, m1, m2, …]
//   zset   → zadd  [key, score1, m1, …]         (score = shortest text that round-trips the double; inf/-inf)
//   list   → rpush [key, e1, e2, …]             (parts in order; elements head to tail)
//   stream → xadd  [key, "<ms>-<seq>", f1, v1, …] (one entry per event, in id order)
// Control events (event_type "control", data_type "generic", key null): op "snapshot-start" / "snapshot-end",
// args_b64 = [one JSON object] (see controlEvent). Every event's `binlog` is the dump's position from `info`
// (filenum/offset, start = end): binlog events after it are exactly the changes after the snapshot.
// event_id = "snapshot:<db index>:<dump uuid>:<sequence>" (sequence counts this DB's snapshot events from 1,
// control events included, and survives resumes). Every event also carries `snapshot: {part, parts, dump_uuid}`.
import type { DumpInfo } from '../dump/info-file.ts';
import type { HashField, StreamEntry, ZSetMember } from '../dump/types.ts';
import { keyText } from '../events/binlog-events.ts';
import type { PikaBinlogInfo, PikaDataType, PikaEvent } from '../events/event.ts';
import type { ResolvedSnapshotOptions } from './options.ts';

export const WARNING_PIKA_HYPERLOGLOG = 'pika-hyperloglog';
/** Pika 3.x full syncs never carry streams (pika-protocol.md §7.2): the snapshot of a Blackwidow dump lacks them. */
export const WARNING_STREAMS_NOT_IN_DUMP = 'pika-3.x-streams-not-in-full-sync';

/** Base64 of bytes; a Buffer is encoded as it is, another Uint8Array through a Buffer view (no copy either way). */
const b64 = (bytes: Uint8Array): string =>
  bytes instanceof Buffer ? bytes.toString('base64') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** Shortest decimal text that parses back to the same double (JS number→string), Redis spellings for ±inf. */
export function formatScore(score: number): string {
  if (Number.isNaN(score)) throw new RangeError('a zset score cannot be NaN');
  if (score === Infinity) return 'inf';
  if (score === -Infinity) return '-inf';
  if (Object.is(score, -0)) return '-0';
  return String(score);
}

export const formatStreamId = (e: StreamEntry): string => `${e.id.ms}-${e.id.seq}`;

/** Raw byte size an element adds to an event's arguments (what maxBytesPerEvent bounds). */
export function elementBytes(type: PikaDataType, item: unknown): number {
  switch (type) {
    case 'hash': {
      const h = item as HashField;
      return h.field.length + h.value.length;
    }
    case 'zset': {
      const z = item as ZSetMember;
      return z.member.length + formatScore(z.score).length;
    }
    case 'stream': {
      const e = item as StreamEntry;
      return formatStreamId(e).length + e.fieldsAndValues.reduce((n, b) => n + b.length, 0);
    }
    default:
      return (item as Uint8Array).length;
  }
}

/** `args_b64` of a collection part: the key, then the elements' arguments (one loop, no intermediate arrays). */
function elementArgsB64(type: PikaDataType, keyB64: string, items: unknown[]): string[] {
  const out: string[] = [keyB64];
  switch (type) {
    case 'hash':
      for (const h of items as HashField[]) out.push(b64(h.field), b64(h.value));
      break;
    case 'zset':
      for (const z of items as ZSetMember[]) out.push(Buffer.from(formatScore(z.score)).toString('base64'), b64(z.member));
      break;
    case 'stream':
      for (const e of items as StreamEntry[]) {
        out.push(Buffer.from(formatStreamId(e)).toString('base64'));
        for (const b of e.fieldsAndValues) out.push(b64(b));
      }
      break;
    default:
      for (const b of items as Uint8Array[]) out.push(b64(b));
  }
  return out;
}

const OP: Record<PikaDataType, string> = { string: 'set', hash: 'hset', set: 'sadd', zset: 'zadd', list: 'rpush', stream: 'xadd', generic: '' };

export function dumpBinlogInfo(info: DumpInfo): PikaBinlogInfo {
  return {
    filenum: info.filenum,
    offset: info.offset,
    end_filenum: info.filenum,
    end_offset: info.offset,
    logic_id: 0,
    server_id: null,
    term_id: info.term ?? 0,
  };
}

/** Mirrors the `snapshot` record of schemas/pika-event-value.v1.avsc. */
export interface PikaSnapshotPart {
  /** Part number within the key (1-based); null for control events. */
  part: number | null;
  /** Number of parts of the key, known on its last part; null before that and for control events. */
  parts: number | null;
  dump_uuid: string;
}

/** A PikaEvent with the snapshot details the value schema carries in its optional `snapshot` field. */
export type SnapshotPikaEvent = PikaEvent & { snapshot: PikaSnapshotPart };

/** Unique per source: the DB is part of it because two DBs' dumps can have identical `info` files (same uuid). */
export const snapshotEventId = (ctx: EventContext, seq: number): string => `snapshot:${ctx.opts.dbIndex}:${ctx.info.snapshotUuid}:${seq}`;

export interface EventContext {
  opts: ResolvedSnapshotOptions;
  info: DumpInfo;
  tsMs: number;
  /** `dumpBinlogInfo(info)`, built once and shared by every event of the snapshot (events are not mutated). */
  binlog: PikaBinlogInfo;
}

/** The context of one DB's snapshot events. */
export function eventContext(opts: ResolvedSnapshotOptions, info: DumpInfo, tsMs: number): EventContext {
  return { opts, info, tsMs, binlog: dumpBinlogInfo(info) };
}

/** `key` of an event: the key as text when it is valid UTF-8 (ASCII without a decoder call), else null. */
function snapshotKeyText(key: Uint8Array): string | null {
  for (let i = 0; i < key.length; i++) if (key[i]! > 0x7f) return keyText(key);
  return latin1(key);
}

const latin1 = (bytes: Uint8Array): string =>
  (bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('latin1');

/**
 * A key event: a whole string, or one part of a collection (`items` already within the limits). `keyB64` is
 * `key` in base64 (the caller has it already: it is part of the snapshot position too).
 */
export function keyEvent(
  ctx: EventContext,
  seq: number,
  type: PikaDataType,
  key: Uint8Array,
  keyB64: string,
  payload: { value: Uint8Array } | { items: unknown[] },
  expireAtMs: number | null,
  part: { part: number; parts: number | null },
  warnings: string[] = [],
): SnapshotPikaEvent {
  const argsB64 = 'value' in payload ? [keyB64, b64(payload.value)] : elementArgsB64(type, keyB64, payload.items);
  return {
    event_type: 'snapshot',
    op: OP[type],
    data_type: type,
    db: ctx.opts.dbIndex,
    slot: null,
    key: snapshotKeyText(key),
    key_b64: keyB64,
    args_b64: argsB64,
    raw_resp_b64: null,
    ts_ms: ctx.tsMs,
    event_id: snapshotEventId(ctx, seq),
    source_id: ctx.opts.sourceId,
    binlog: ctx.binlog,
    source: ctx.opts.source,
    expire_at_ms: expireAtMs,
    warnings,
    snapshot: { ...part, dump_uuid: ctx.info.snapshotUuid },
  };
}

/**
 * snapshot-start: `{db, dump_uuid, binlog_filenum, binlog_offset, now_ms, layout, restarted_from?}`.
 * snapshot-end:   `{db, dump_uuid, binlog_filenum, binlog_offset, keys, events, elements, skipped}` (events = key
 * events, control events excluded; skipped = strings/elements left out by snapshot.oversize.policy=skip/dlq).
 */
export function controlEvent(ctx: EventContext, seq: number, op: 'snapshot-start' | 'snapshot-end', body: Record<string, unknown>, warnings: string[] = []): SnapshotPikaEvent {
  const json = { db: ctx.opts.db, dump_uuid: ctx.info.snapshotUuid, binlog_filenum: ctx.info.filenum, binlog_offset: ctx.info.offset, ...body };
  return {
    event_type: 'control',
    op,
    data_type: 'generic',
    db: ctx.opts.dbIndex,
    slot: null,
    key: null,
    key_b64: null,
    args_b64: [Buffer.from(JSON.stringify(json)).toString('base64')],
    raw_resp_b64: null,
    ts_ms: ctx.tsMs,
    event_id: snapshotEventId(ctx, seq),
    source_id: ctx.opts.sourceId,
    binlog: ctx.binlog,
    source: ctx.opts.source,
    expire_at_ms: null,
    warnings,
    snapshot: { part: null, parts: null, dump_uuid: ctx.info.snapshotUuid },
  };
}
