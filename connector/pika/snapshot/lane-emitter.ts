// The snapshot events of one lane of the dump: its records → key events (strings whole, collections cut into
// parts), re-entering a half-emitted key on resume, advancing the shared position after every event.
import { ConnectError, docRef } from '../../../runtime/api/index.ts';
import type { DumpLane } from '../dump/lanes.ts';
import type { CollectionType, DumpRecord } from '../dump/types.ts';
import { keyEvent, WARNING_PIKA_HYPERLOGLOG, type EventContext, type SnapshotPikaEvent } from './event-builder.ts';
import { KeySplitter, type KeyPart } from './key-splitter.ts';
import type { LaneProgress, LaneState, SnapshotPosition } from './position.ts';

const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

export function resumeError(message: string): ConnectError {
  return new ConnectError(`snapshot resume: ${message}`, { code: 'PIKA_SNAPSHOT_RESUME', stage: 'poll' });
}

/** Where the dump reader enters a lane for a committed lane state: strictly after this key (none: the start). */
export function laneEntry(state: LaneState | undefined): Uint8Array | undefined {
  if (!state) return undefined;
  if (state.key_done) return Buffer.from(state.key_b64, 'base64');
  return state.prev_key_b64 === null ? undefined : Buffer.from(state.prev_key_b64, 'base64');
}

export class LaneEmitter<R> {
  private prevKey: string | null;
  private reenter: { key: Buffer; elements: number; part: number } | undefined;
  private splitter: KeySplitter | undefined;
  /** The current key in base64 (computed once per key: the events and the position both carry it). */
  private keyB64 = '';
  private keyOf: Uint8Array | undefined;

  constructor(
    private readonly lane: DumpLane,
    private readonly ctx: EventContext,
    private readonly pos: SnapshotPosition,
    private readonly progress: LaneProgress,
    private readonly emit: (event: SnapshotPikaEvent, part: number | null, parts: number | null, dlqReason?: string) => R,
    resume: LaneState | undefined,
  ) {
    this.prevKey = resume ? (resume.key_done ? resume.key_b64 : resume.prev_key_b64) : null;
    if (resume && !resume.key_done) this.reenter = { key: Buffer.from(resume.key_b64, 'base64'), elements: resume.elements, part: resume.part };
  }

  /** Ends the lane: a half-emitted key that was not found again is an error. */
  finish(dbDir: string): void {
    if (this.reenter) throw resumeError(`key ${this.reenter.key.toString('hex')} is no longer in instance ${this.lane.instance} of ${dbDir}`);
    this.progress.done(this.lane.id);
    this.pos.lanes = this.progress.toString();
  }

  *consume(batch: DumpRecord[]): Generator<R> {
    const { opts } = this.ctx;
    const pos = this.pos;
    for (const r of batch) {
      const key = r.pos.key;
      if (this.reenter && Buffer.compare(key, this.reenter.key) !== 0) {
        throw resumeError(`expected to re-enter key ${this.reenter.key.toString('hex')} of instance ${this.lane.instance}, found ${Buffer.from(key).toString('hex')}`);
      }
      if (key !== this.keyOf) {
        this.keyOf = key;
        this.keyB64 = b64(key);
      }
      const keyB64 = this.keyB64;
      if (r.kind === 'string') {
        if (this.reenter) throw resumeError(`key ${this.reenter.key.toString('hex')} was left half-emitted but is a string`);
        const size = key.length + r.value.length;
        let dlqReason: string | undefined;
        if (size > opts.maxBytesPerEvent) {
          const why = `string key ${Buffer.from(key).toString('hex').slice(0, 200)} of ${opts.db} is ${size} bytes, over snapshot.max.bytes.per.event=${opts.maxBytesPerEvent}`;
          if (opts.oversizePolicy === 'fail') {
            throw new ConnectError(`${why} (snapshot.oversize.policy=fail) ${docRef('sizeLimits')}`, { code: 'PIKA_SNAPSHOT_OVERSIZE', stage: 'poll' });
          }
          if (opts.oversizePolicy === 'skip') {
            opts.onWarning(`${why}: skipped (snapshot.oversize.policy=skip)`);
            pos.skipped++;
            this.prevKey = keyB64;
            continue;
          }
          dlqReason = why;
        }
        this.advance(keyB64, 'string', 1, 0, true, 0, !!dlqReason);
        if (dlqReason) pos.skipped++;
        pos.keys++;
        const warnings = r.hyperloglog ? [WARNING_PIKA_HYPERLOGLOG] : [];
        const event = keyEvent(this.ctx, pos.seq, 'string', key, keyB64, { value: r.value }, r.expireAtMs, { part: 1, parts: 1 }, warnings);
        yield this.emit(event, 1, 1, dlqReason);
        this.prevKey = keyB64;
      } else if (r.kind === 'key-start') {
        const resumeAt = this.reenter ? { consumed: this.reenter.elements, part: this.reenter.part } : undefined;
        this.splitter = new KeySplitter(r.type, key, r.expireAtMs, opts, () => void pos.skipped++, resumeAt);
        this.reenter = undefined;
      } else if (r.kind === 'elements') {
        const splitter = this.splitter;
        if (!splitter) throw resumeError(`elements of key ${Buffer.from(key).toString('hex')} without its key-start`);
        for (const item of r.items as unknown[]) {
          for (const part of splitter.push(item)) yield this.part(key, keyB64, r.type, part, splitter.expireAt, null);
        }
      } else {
        const splitter = this.splitter;
        if (!splitter) throw resumeError(`key-end of ${Buffer.from(key).toString('hex')} without its key-start`);
        const last = splitter.finish();
        if (last) {
          pos.keys++;
          yield this.part(key, keyB64, r.type, last, splitter.expireAt, last.part);
        }
        this.prevKey = keyB64;
        this.splitter = undefined;
      }
    }
  }

  private part(key: Uint8Array, keyB64: string, type: CollectionType, part: KeyPart, expireAt: number | null, parts: number | null): R {
    this.advance(keyB64, type, part.part, part.consumed, part.last, part.items.length, !!part.dlqReason);
    const event = keyEvent(this.ctx, this.pos.seq, type, key, keyB64, { items: part.items }, expireAt, { part: part.part, parts });
    return this.emit(event, part.part, parts, part.dlqReason);
  }

  /** The position after the next event: this lane's key and part, the running counters, every lane's state. */
  private advance(keyB64: string, type: string, part: number, consumed: number, last: boolean, items: number, dlq: boolean): void {
    const pos = this.pos;
    pos.stage = 'keys';
    pos.instance = this.lane.instance;
    pos.data_type = type;
    pos.key_b64 = keyB64;
    pos.part = part;
    pos.elements = consumed;
    pos.key_done = last;
    pos.prev_key_b64 = this.prevKey;
    pos.seq++;
    if (dlq) pos.skipped += items;
    else pos.elements_total += items;
    this.progress.set(this.lane.id, { data_type: type, key_b64: keyB64, part, elements: consumed, key_done: last, prev_key_b64: this.prevKey });
    pos.lanes = this.progress.toString();
  }
}
