// Where the PB path starts each DB (asked by the session on its first MetaSync): from the committed offset, after the
// spill log's last item, at a full sync (snapshot.mode, a snapshot in progress, a changed replication id under
// snapshot.on.gap=resync) or at the master's current position (snapshot.mode=never, nothing committed).
import { docRef, type SourceTaskContext } from '../../../runtime/api/index.ts';
import { formatPosition, type BinlogPosition } from '../binlog/item.ts';
import { dbIndexFromName } from '../events/binlog-events.ts';
import { ReplicationGapError } from '../replication/errors.ts';
import type { MasterInfo, StartPoint } from '../replication/session.ts';
import { isSnapshotOffset, parseSnapshotPosition } from '../snapshot/index.ts';
import type { SpillCoordinator, SpillStartInfo } from '../spill/spill-coordinator.ts';
import type { PikaSourceSettings } from './config.ts';
import { parseCommittedOffset, sourcePartition } from './offsets.ts';
import type { SnapshotPhase } from './snapshot-phase.ts';

export interface StartPointDeps {
  settings: PikaSourceSettings;
  context: SourceTaskContext;
  snapshots: SnapshotPhase;
  spill: SpillCoordinator | undefined;
  /** A gap found here: true = resync (full sync of the DB), false = the session fails with it. */
  onGap(gap: ReplicationGapError): boolean;
}

export function startPoint(db: string, master: MasterInfo, deps: StartPointDeps): StartPoint {
  const { settings: s, snapshots, spill } = deps;
  const log = deps.context.logger;
  const partition = sourcePartition(s.sourceId, dbIndexFromName(db));
  const committed = deps.context.offsets.offset(partition);
  if (committed?.phase === 'snapshot') {
    const at = parseSnapshotPosition(committed);
    snapshots.resumeAt(db, committed);
    log.info('a snapshot was in progress: full sync again, resuming after its last committed event if the dump is the same', { db, dump_uuid: at.dump_uuid, stage: at.stage, seq: at.seq });
    return 'dump';
  }
  if (committed) {
    const position = parseCommittedOffset(partition, committed);
    if (s.snapshotMode === 'always') {
      log.info('snapshot.mode=always: full sync at this start although a committed offset exists', { db, committed: formatPosition(position) });
      return 'dump';
    }
    if (position.replicationId !== null && master.replicationId !== null && position.replicationId !== master.replicationId) {
      const gap = new ReplicationGapError('replication-id-changed', db,
        `the committed offset belongs to replication id ${position.replicationId} but the master now has ${master.replicationId} (restored or replaced master)`,
        { requested: position });
      if (deps.onGap(gap)) return 'dump';
      throw gap;
    }
    const spilled = spill?.resumePoint(db, position);
    if (spilled) {
      log.info('resuming the master after the last item of the spill log (the items between the committed offset and it are replayed from the log)', { db, committed: formatPosition(position), position: formatPosition(spilled) });
      return spilled;
    }
    log.info('resuming from the committed offset', { db, position: formatPosition(position), logic_id: position.logicId });
    const leftover = committed.snapshot_dump_uuid;
    if (typeof leftover === 'string') snapshots.removeLeftover(db, leftover);
    return position;
  }
  const spilled = s.snapshotMode === 'never' ? spill?.resumePoint(db, undefined) : undefined;
  if (spilled) {
    log.info('no committed offset: resuming the master after the last item of the spill log (its items are replayed first)', { db, position: formatPosition(spilled) });
    return spilled;
  }
  if (s.snapshotMode === 'never') {
    log.warn('no committed offset: starting at the master\'s current binlog position (snapshot.mode=never); data written before is not captured', { db });
    return 'current';
  }
  log.info(`no committed offset: full sync first (snapshot.mode=${s.snapshotMode}), then the binlog from the dump's offset ${docRef('forcedOffsets')}`, { db });
  return 'dump';
}

/** What the spill log needs to know at open: each DB's committed binlog position (null inside a snapshot). */
export function spillStartInfo(settings: PikaSourceSettings, context: SourceTaskContext): SpillStartInfo {
  const committed = new Map<string, BinlogPosition | null>();
  for (const { partition, offset } of context.offsets.all()) {
    if (partition.source_id !== settings.sourceId) continue;
    committed.set(`db${partition.db}`, isSnapshotOffset(offset) ? null : parseCommittedOffset(partition, offset));
  }
  return { committed, replayWithoutOffset: settings.snapshotMode === 'never', fullSyncAlways: settings.snapshotMode === 'always' };
}
