// The PB path's status (REST `/status` trace of the task) and its metrics samples, from the session's state.
import type { SourceTaskContext } from '../../../runtime/api/index.ts';
import type { ReplicationSession } from '../replication/session.ts';
import type { SpillCoordinator } from '../spill/spill-coordinator.ts';
import type { PikaSourceSettings } from './config.ts';
import type { PikaSourceMetrics } from './metrics.ts';
import { pbVersionProfile, type ProtocolSelection } from './protocol-selection.ts';
import type { SnapshotPhase } from './snapshot-phase.ts';

export interface PbTaskState {
  settings: PikaSourceSettings;
  context: SourceTaskContext;
  metrics: PikaSourceMetrics;
  selection: ProtocolSelection | undefined;
  session: ReplicationSession;
  snapshots: SnapshotPhase;
  spill: SpillCoordinator | undefined;
  itemsAwaitingCommit: number;
  resyncs: number;
  gaps: number;
}

export function reportPbStatus(state: PbTaskState): void {
  const { session, snapshots, settings, selection } = state;
  const master = session.master;
  const profile = master ? pbVersionProfile(master) : selection?.profile ?? null;
  if (master) state.metrics.protocol('pb', profile);
  state.metrics.sample({
    msSinceLastAck: session.msSinceLastAck(),
    itemsAwaitingCommit: state.itemsAwaitingCommit,
    reconnects: session.stats.reconnects,
    snapshots: snapshots.dbStatus(),
  });
  state.context.reportStatus({
    sync_protocol: selection ? { setting: selection.setting, protocol: 'pb', profile, reason: selection.reason } : null,
    replication: {
      streaming: session.isStreaming,
      generation: session.currentGeneration,
      master: { host: settings.host, repl_port: settings.replPort, replication_id: master?.replicationId ?? null, run_id: master?.runId ?? null, profile: master?.profile ?? null },
      dbs: session.positions(),
      items_awaiting_commit: state.itemsAwaitingCommit,
      ...session.stats,
    },
    ...(state.spill ? { spill: state.spill.status() } : {}),
    snapshot: snapshots.status(state.resyncs),
    gaps: state.gaps,
  });
}
