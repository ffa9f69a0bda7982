// Dump → snapshot events for one DB, resumable after any emitted event of the same dump.
import type { SourceOffset } from '../../../runtime/api/index.ts';
import { detectLayout, type DumpLayout } from '../dump/dump-reader.ts';
import { encodeMetaKey } from '../dump/floyd-format.ts';
import { compareBytes } from '../rocksdb/coding.ts';
import { readDumpInfo } from '../dump/info-file.ts';
import { readLanes } from '../dump/lane-pool.ts';
import { dumpLanes, type DumpLane, type LaneTask } from '../dump/lanes.ts';
import { controlEvent, eventContext, type SnapshotPikaEvent, WARNING_STREAMS_NOT_IN_DUMP, type EventContext } from './event-builder.ts';
import { laneEntry, LaneEmitter, resumeError } from './lane-emitter.ts';
import { resolveSnapshotOptions, type SnapshotOptions } from './options.ts';
import { LaneProgress, parseLanes, parseSnapshotPosition, positionToOffset, type LaneState, type SnapshotPosition } from './position.ts';

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

/**
 * The snapshot events of the dump of one DB (`dbDir` = the directory holding `info` and the instance dirs).
 * Order: snapshot-start, key events, snapshot-end. Key events come lane by lane (dump/lanes.ts) when decoded in
 * this thread, interleaved by batches when lanes are decoded in worker threads (`decodeThreads`); either way the
 * events of one key are consecutive with parts in order, and each lane's keys come in its key order. The
 * position names every lane's progress, so a resume continues each lane after its own last emitted event. With `resumeFrom` = the offset of an emitted event of the same dump (same `info`), yields exactly
 * the events after it; an offset of another dump restarts from the beginning, with a warning and
 * `restarted_from` in snapshot-start. Memory stays bounded by one event plus the dump reader's chunk.
 */
export async function* snapshotEvents(dbDir: string, options: SnapshotOptions, resumeFrom?: SourceOffset): AsyncGenerator<SnapshotRecord> {
  const opts = resolveSnapshotOptions(options);
  const info = await readDumpInfo(dbDir);
  const layout = await detectLayout(dbDir);
  let resume = resumeFrom ? parseSnapshotPosition(resumeFrom) : undefined;
  let restartedFrom: string | undefined;
  if (resume && resume.dump_uuid !== info.snapshotUuid) {
    restartedFrom = resume.dump_uuid;
    opts.onWarning(`${opts.db}: the committed snapshot position belongs to dump ${resume.dump_uuid}, but ${dbDir} holds dump ${info.snapshotUuid}; the snapshot starts over`);
    resume = undefined;
  }
  if (resume?.stage === 'end') return;
  const nowMs = resume?.now_ms ?? opts.nowMs ?? Date.now();
  const ctx: EventContext = eventContext(opts, info, opts.tsMs ?? nowMs);
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
    const offset = positionToOffset(pos);
    const position = offset as unknown as SnapshotPosition; // one copy serves both (neither is mutated)
    return dlqReason ? { event, offset, position, part, parts, dlqReason } : { event, offset, position, part, parts };
  };

  if (!resume) {
    pos.seq++;
    const body = { now_ms: nowMs, layout: layout.kind, ...(restartedFrom ? { restarted_from: restartedFrom } : {}) };
    yield emit(controlEvent(ctx, pos.seq, 'snapshot-start', body, dumpWarnings));
  }

  // Lanes (dump parts decoded in parallel) and where each one resumes.
  const lanes = await dumpLanes(dbDir, layout, options.laneBytes);
  const states = resume?.stage === 'keys' ? laneStates(resume, lanes, dbDir, layout.kind) : new Map<string, LaneState | 'done'>();
  const progress = new LaneProgress(states);
  pos.lanes = progress.toString();
  const todo = lanes.filter((l) => states.get(l.id) !== 'done');
  const tasks: LaneTask[] = todo.map((lane) => {
    const after = laneEntry(states.get(lane.id) as LaneState | undefined);
    return after ? { lane, after } : { lane };
  });
  const emitters = todo.map((lane) => new LaneEmitter(lane, ctx, pos, progress, emit, states.get(lane.id) as LaneState | undefined));
  const readOpts = {
    nowMs,
    onWarning: opts.onWarning,
    ...(options.decodeThreads !== undefined ? { threads: options.decodeThreads } : {}),
    ...(options.blockThread !== undefined ? { blockThread: options.blockThread } : {}),
    ...(options.blockThreadMinFileBytes !== undefined ? { blockThreadMinFileBytes: options.blockThreadMinFileBytes } : {}),
    ...(options.minParallelBytes !== undefined ? { minParallelBytes: options.minParallelBytes } : {}),
  };
  for await (const b of readLanes(dbDir, opts.db, layout.kind, tasks, readOpts)) {
    const emitter = emitters[b.lane]!;
    if (b.done) emitter.finish(dbDir);
    else yield* emitter.consume(b.records);
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
  pos.lanes = progress.toString();
  const body = { keys: pos.keys, events, elements: pos.elements_total, skipped: pos.skipped };
  yield emit(controlEvent(ctx, pos.seq, 'snapshot-end', body, dumpWarnings));
}

/** Each lane's committed state from a `keys` position (one written before lanes existed: see position.ts). */
function laneStates(resume: SnapshotPosition, lanes: DumpLane[], dbDir: string, kind: DumpLayout['kind']): Map<string, LaneState | 'done'> {
  if (resume.lanes !== undefined) {
    const states = parseLanes(resume.lanes);
    for (const id of states.keys()) {
      if (!lanes.some((l) => l.id === id)) throw resumeError(`lane ${JSON.stringify(id)} is not in ${dbDir} (${lanes.map((l) => l.id).join(', ')})`);
    }
    return states;
  }
  // Lanes were read one after the other: every lane before the one holding the key is done.
  const key = Buffer.from(resume.key_b64 ?? '', 'base64');
  const raw = kind === 'floyd' ? encodeMetaKey(key) : key;
  let at = -1;
  lanes.forEach((l, i) => {
    if (l.instance === resume.instance && (!l.from || compareBytes(l.from, raw) <= 0)) at = i;
  });
  if (at < 0) throw resumeError(`instance ${JSON.stringify(resume.instance)} is not in ${dbDir} (${[...new Set(lanes.map((l) => l.instance))].join(', ')})`);
  const states = new Map<string, LaneState | 'done'>();
  for (let i = 0; i < at; i++) states.set(lanes[i]!.id, 'done');
  const { data_type, part, elements, key_done, prev_key_b64 } = resume;
  states.set(lanes[at]!.id, { data_type: data_type ?? 'string', key_b64: resume.key_b64!, part, elements, key_done, prev_key_b64 });
  return states;
}
