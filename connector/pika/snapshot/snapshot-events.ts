// Dump → snapshot events for one DB, resumable after any emitted event of the same dump.
import { ConnectError, docRef, type SourceOffset } from '../../../runtime/api/index.ts';
import { readBlackwidowInstance } from '../dump/blackwidow-reader.ts';
import type { BlackwidowInstance } from '../dump/blackwidow-format.ts';
import { detectLayout } from '../dump/dump-reader.ts';
import { readFloydInstance } from '../dump/floyd-reader.ts';
import { readDumpInfo } from '../dump/info-file.ts';
import type { DumpRecord, DumpReaderOptions } from '../dump/types.ts';
import { controlEvent, keyEvent, type SnapshotPikaEvent, WARNING_PIKA_HYPERLOGLOG, WARNING_STREAMS_NOT_IN_DUMP, type EventContext } from './event-builder.ts';
import { resolveSnapshotOptions, type SnapshotOptions } from './options.ts';
import { KeySplitter, type KeyPart } from './key-splitter.ts';
import { parseSnapshotPosition, positionToOffset, type SnapshotPosition } from './position.ts';

export interface SnapshotRecord {
  /** Also carries `snapshot: {part, parts, dump_uuid}` (the value schema's optional `snapshot` field). */
  event: SnapshotPikaEvent;
  /** The source offset to commit with this event (`positionToOffset(position)`). */
  offset: SourceOffset;
  position: SnapshotPosition;
  /** Part number within the key (1-based); null for control events. */
  part: number | null;
  /** Number of parts of the key, known on its last part (null before, and for control events). */
  parts: number | null;
  /** Set when snapshot.oversize.policy=dlq routed this event to the dead-letter queue. */
  dlqReason?: string;
}

const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

function resumeError(message: string): ConnectError {
  return new ConnectError(`snapshot resume: ${message}`, { code: 'PIKA_SNAPSHOT_RESUME', stage: 'poll' });
}

/**
 * The snapshot events of the dump of one DB (`dbDir` = the directory holding `info` and the instance dirs).
 * Order: snapshot-start, key events (instances in order, keys in each instance's order, parts in order),
 * snapshot-end. With `resumeFrom` = the offset of an emitted event of the same dump (same `info`), yields exactly
 * the events after it; an offset of another dump restarts from the beginning, with a warning and
 * `restarted_from` in snapshot-start. Memory stays bounded by one event plus the dump reader's chunk.
 */
export async function* snapshotEvents(dbDir: string, options: SnapshotOptions, resumeFrom?: SourceOffset): AsyncGenerator<SnapshotRecord> {
  const opts = resolveSnapshotOptions(options);
  const info = await readDumpInfo(dbDir);
  const layout = await detectLayout(dbDir);
  const instances: string[] = layout.instances;
  let resume = resumeFrom ? parseSnapshotPosition(resumeFrom) : undefined;
  let restartedFrom: string | undefined;
  if (resume && resume.dump_uuid !== info.snapshotUuid) {
    restartedFrom = resume.dump_uuid;
    opts.onWarning(`${opts.db}: the committed snapshot position belongs to dump ${resume.dump_uuid}, but ${dbDir} holds dump ${info.snapshotUuid}; the snapshot starts over`);
    resume = undefined;
  }
  if (resume?.stage === 'end') return;
  const nowMs = resume?.now_ms ?? opts.nowMs ?? Date.now();
  const ctx: EventContext = { opts, info, tsMs: opts.tsMs ?? nowMs };
  const dumpWarnings = layout.kind === 'blackwidow' ? [WARNING_STREAMS_NOT_IN_DUMP] : [];
  if (layout.kind === 'blackwidow') {
    opts.onWarning(`${opts.db}: Pika 3.x dumps do not carry streams (the master's full sync leaves them out); any streams on the master are missing from this snapshot`);
  }

  const pos: SnapshotPosition = resume
    ? { ...resume }
    : {
        phase: 'snapshot',
        dump_uuid: info.snapshotUuid,
        now_ms: nowMs,
        stage: 'start',
        instance: null,
        data_type: null,
        key_b64: null,
        part: 0,
        elements: 0,
        key_done: false,
        prev_key_b64: null,
        seq: 0,
        keys: 0,
        elements_total: 0,
        skipped: 0,
      };
  const emit = (event: SnapshotPikaEvent, part: number | null = null, parts: number | null = null, dlqReason?: string): SnapshotRecord => {
    const position = { ...pos };
    return { event, offset: positionToOffset(position), position, part, parts, ...(dlqReason ? { dlqReason } : {}) };
  };

  if (!resume) {
    pos.seq++;
    const body = { now_ms: nowMs, layout: layout.kind, ...(restartedFrom ? { restarted_from: restartedFrom } : {}) };
    yield emit(controlEvent(ctx, pos.seq, 'snapshot-start', body, dumpWarnings));
  }

  // Where to enter the dump.
  let startIndex = 0;
  let after: { instance: string; key: Uint8Array } | undefined;
  let reenter: { key: Buffer; elements: number; part: number } | undefined;
  let prevKey: string | null = null;
  if (resume?.stage === 'keys') {
    startIndex = instances.indexOf(resume.instance!);
    if (startIndex < 0) throw resumeError(`instance ${JSON.stringify(resume.instance)} is not in ${dbDir} (${instances.join(', ')})`);
    const key = Buffer.from(resume.key_b64!, 'base64');
    if (resume.key_done) {
      after = { instance: resume.instance!, key };
      prevKey = resume.key_b64;
    } else {
      prevKey = resume.prev_key_b64;
      if (prevKey !== null) after = { instance: resume.instance!, key: Buffer.from(prevKey, 'base64') };
      reenter = { key, elements: resume.elements, part: resume.part };
    }
  }

  const readerOpts: DumpReaderOptions & { nowMs: number } = { nowMs, onWarning: opts.onWarning };
  for (let i = startIndex; i < instances.length; i++) {
    const instance = instances[i]!;
    if (i > startIndex) prevKey = null;
    const o = { ...readerOpts, ...(i === startIndex && after ? { after } : {}) };
    const batches: AsyncGenerator<DumpRecord[]> =
      layout.kind === 'floyd' ? readFloydInstance(dbDir, opts.db, instance, o) : readBlackwidowInstance(dbDir, opts.db, instance as BlackwidowInstance, o);
    let splitter: KeySplitter | undefined;
    const keyPosition = (key: Uint8Array, type: string, part: KeyPart) => {
      pos.stage = 'keys';
      pos.instance = instance;
      pos.data_type = type;
      pos.key_b64 = b64(key);
      pos.part = part.part;
      pos.elements = part.consumed;
      pos.key_done = part.last;
      pos.prev_key_b64 = prevKey;
      pos.seq++;
      if (part.dlqReason) pos.skipped += part.items.length;
      else pos.elements_total += part.items.length;
    };
    for await (const batch of batches) for (const r of batch) {
      if (reenter) {
        if (Buffer.compare(Buffer.from(r.pos.key), reenter.key) !== 0) {
          throw resumeError(`expected to re-enter key ${reenter.key.toString('hex')} of instance ${instance}, found ${Buffer.from(r.pos.key).toString('hex')}`);
        }
      }
      if (r.kind === 'string') {
        if (reenter) throw resumeError(`key ${reenter.key.toString('hex')} was left half-emitted but is a string`);
        const size = r.pos.key.length + r.value.length;
        let dlqReason: string | undefined;
        if (size > opts.maxBytesPerEvent) {
          const why = `string key ${Buffer.from(r.pos.key).toString('hex').slice(0, 200)} of ${opts.db} is ${size} bytes, over snapshot.max.bytes.per.event=${opts.maxBytesPerEvent}`;
          if (opts.oversizePolicy === 'fail') {
            throw new ConnectError(`${why} (snapshot.oversize.policy=fail) ${docRef('sizeLimits')}`, { code: 'PIKA_SNAPSHOT_OVERSIZE', stage: 'poll' });
          }
          if (opts.oversizePolicy === 'skip') {
            opts.onWarning(`${why}: skipped (snapshot.oversize.policy=skip)`);
            pos.skipped++;
            prevKey = b64(r.pos.key);
            continue;
          }
          dlqReason = why;
        }
        keyPosition(r.pos.key, 'string', { part: 1, consumed: 0, last: true, items: [], dlqReason });
        if (dlqReason) pos.skipped++;
        pos.keys++;
        const warnings = r.hyperloglog ? [WARNING_PIKA_HYPERLOGLOG] : [];
        const event = keyEvent(ctx, pos.seq, 'string', r.pos.key, { value: r.value }, r.expireAtMs, { part: 1, parts: 1 }, warnings);
        yield emit(event, 1, 1, dlqReason);
        prevKey = b64(r.pos.key);
      } else if (r.kind === 'key-start') {
        const resumeAt = reenter ? { consumed: reenter.elements, part: reenter.part } : undefined;
        splitter = new KeySplitter(r.type, r.pos.key, r.expireAtMs, opts, () => void pos.skipped++, resumeAt);
        reenter = undefined;
      } else if (r.kind === 'elements') {
        if (!splitter) throw resumeError(`elements of key ${Buffer.from(r.pos.key).toString('hex')} without its key-start`);
        for (const item of r.items as unknown[]) {
          for (const part of splitter.push(item)) {
            keyPosition(r.pos.key, r.type, part);
            const event = keyEvent(ctx, pos.seq, r.type, r.pos.key, { items: part.items }, splitter.expireAt, { part: part.part, parts: null });
            yield emit(event, part.part, null, part.dlqReason);
          }
        }
      } else {
        if (!splitter) throw resumeError(`key-end of ${Buffer.from(r.pos.key).toString('hex')} without its key-start`);
        const last = splitter.finish();
        if (last) {
          keyPosition(r.pos.key, r.type, last);
          pos.keys++;
          const event = keyEvent(ctx, pos.seq, r.type, r.pos.key, { items: last.items }, splitter.expireAt, { part: last.part, parts: last.part });
          yield emit(event, last.part, last.part, last.dlqReason);
        }
        prevKey = b64(r.pos.key);
        splitter = undefined;
      }
    }
    if (reenter) throw resumeError(`key ${reenter.key.toString('hex')} is no longer in instance ${instance} of ${dbDir}`);
  }

  pos.stage = 'end';
  pos.instance = null;
  pos.data_type = null;
  pos.key_b64 = null;
  pos.part = 0;
  pos.elements = 0;
  pos.key_done = false;
  pos.prev_key_b64 = null;
  pos.seq++;
  const events = pos.seq - 2;
  const body = { keys: pos.keys, events, elements: pos.elements_total, skipped: pos.skipped };
  yield emit(controlEvent(ctx, pos.seq, 'snapshot-end', body, dumpWarnings));
}
