// CDC metrics of the Pika source task, exported through the runtime's `/metrics` (TaskMetricsFacade; the runtime
// adds the `connector` and `task` labels). The task feeds events (item received/committed, gap, full sync, filtered
// record) and, about once a second, a sample of the session and snapshot state that the gauges are set from.
//
// What "the master's position" means here: Pika's PB keepalives carry no binlog position, so the newest position
// this task knows of the master is the end of the last item the master pushed. "Behind" therefore measures what
// was received and is not yet in a committed Kafka transaction, not what the master wrote and has not sent.
import type { TaskMetricsFacade } from '../../../runtime/api/index.ts';
import type { BinlogPosition } from '../binlog/item.ts';

type Gauge = ReturnType<TaskMetricsFacade['gauge']>;
type Counter = ReturnType<TaskMetricsFacade['counter']>;

/** Progress of one DB's full sync, as FullSyncJob.status() reports it. */
export interface SnapshotProgressSample {
  files_done: number;
  files_total: number;
  bytes_downloaded: number;
  events_emitted: number;
  state: string;
}

export interface PikaMetricsSample {
  /** Per DB: ms since the last ack sent to the master (or since the binlog was pinned for us); null = none yet. */
  msSinceLastAck: Record<string, number | null>;
  itemsAwaitingCommit: number;
  /** Cumulative reconnects of the replication session. */
  reconnects: number;
  snapshots: Record<string, SnapshotProgressSample>;
}

interface DbPositions {
  received?: BinlogPosition;
  committed?: BinlogPosition;
  /** Where this task began reading (the first received item's start): "behind" before the first commit. */
  base?: BinlogPosition;
  /** Exec time (unix seconds) of the last committed item. */
  committedExecTime?: number;
}

interface SnapshotTiming {
  startedAt: number;
  filesDoneAtStart: number;
}

export class PikaSourceMetrics {
  private readonly dbs = new Map<string, DbPositions>();
  private readonly execTimes = new WeakMap<object, number>();
  private readonly snapshotTimings = new Map<string, SnapshotTiming>();
  private reconnectsSeen = 0;
  private protocolKey: string | undefined;
  private protocolLabels: Record<string, string> | undefined;
  private readonly g: Record<string, Gauge> = {};
  private readonly c: Record<string, Counter> = {};

  constructor(private readonly facade: TaskMetricsFacade | undefined, private readonly now: () => number = Date.now) {
    if (!facade) return;
    const db = ['db'];
    const gauge = (key: string, name: string, help: string, labels: string[] = db): void => { this.g[key] = facade.gauge(name, help, labels); };
    const counter = (key: string, name: string, help: string, labels: string[] = []): void => { this.c[key] = facade.counter(name, help, labels); };
    gauge('receivedFile', 'pika_source_binlog_received_filenum', 'Binlog file number of the end of the newest item the master pushed (the newest master position known: Pika keepalives carry none)');
    gauge('receivedOffset', 'pika_source_binlog_received_offset', 'Byte offset in its file of the end of the newest item the master pushed');
    gauge('committedFile', 'pika_source_binlog_committed_filenum', 'Binlog file number of the end of the newest item whose records are in a committed Kafka transaction');
    gauge('committedOffset', 'pika_source_binlog_committed_offset', 'Byte offset in its file of the end of the newest item whose records are in a committed Kafka transaction');
    gauge('filesBehind', 'pika_source_binlog_files_behind', 'Binlog files between the newest pushed item and the newest committed item (received, not yet in Kafka)');
    gauge('bytesBehind', 'pika_source_binlog_bytes_behind', 'Binlog bytes received from the master and not yet in a committed Kafka transaction; when the two positions are in different files only the newest file\'s bytes are counted (a lower bound: file sizes are not known)');
    gauge('msBehind', 'pika_source_ms_behind_master', 'Milliseconds between now and the exec time the master wrote into the newest committed binlog item (grows when the master is idle; 1 s resolution)');
    gauge('msSinceAck', 'pika_source_ms_since_last_ack', 'Milliseconds since the last ack sent to the master for this DB, or since its binlog sync or full sync began when none was sent yet; the master keeps binlog for an unacked replica (pinned-binlog risk)');
    gauge('awaiting', 'pika_source_items_awaiting_commit', 'Binlog items received and not yet acknowledgeable (their records are not all in a committed Kafka transaction)', []);
    gauge('snapFilesDone', 'pika_source_snapshot_files_done', 'Dump files downloaded for the current or last full sync');
    gauge('snapFilesTotal', 'pika_source_snapshot_files_total', 'Dump files the master listed for the current or last full sync (0 until known)');
    gauge('snapBytes', 'pika_source_snapshot_bytes_downloaded', 'Dump bytes on local disk for the current or last full sync');
    gauge('snapPercent', 'pika_source_snapshot_download_percent', 'Dump download progress in percent of files (the rsync2 meta lists file names, not sizes)');
    gauge('snapEta', 'pika_source_snapshot_download_eta_seconds', 'Estimated seconds until the dump is downloaded, from the file rate of this download; -1 when unknown');
    gauge('snapEvents', 'pika_source_snapshot_events_emitted', 'Snapshot events emitted (handed to the runtime) for the current or last full sync');
    gauge('protocol', 'pika_source_sync_protocol_info', 'The replication protocol (pb, legacy) and Pika version profile in use: 1 for the current one', ['protocol', 'profile']);
    counter('reconnects', 'pika_source_reconnects_total', 'Reconnects of the replication connection to the master');
    counter('gaps', 'pika_source_gaps_total', 'Distinct binlog gaps met (purged, larger than the master, not at an item boundary, replication id changed, discontinuity); a restarted task meeting the same gap again does not count it twice', ['db', 'kind']);
    counter('fullSyncs', 'pika_source_full_syncs_total', 'Full syncs started (DBSync accepted by the master)', ['db']);
    counter('pushTimeouts', 'pika_source_push_timeouts_total', 'Full syncs pushed by a Pika 3.0 / 3.1–3.4 master that made no progress for snapshot.push.timeout.ms (given up; the restarted task asks again)', ['db']);
    counter('filtered', 'pika_source_filtered_records_total', 'Events dropped by filter.* rules (their offsets and acks still advance)', ['reason']);
  }

  /** An item the master pushed (`start` from its header); `execTime` is its unix seconds. `handle` identifies it until committed. */
  received(handle: object, db: string, start: BinlogPosition, end: BinlogPosition, execTime: number): void {
    const s = this.state(db);
    s.received = { filenum: end.filenum, offset: end.offset };
    s.base ??= { filenum: start.filenum, offset: start.offset };
    this.execTimes.set(handle, execTime);
  }

  /** Every record of the item `handle` (from `received`) is in a committed Kafka transaction. */
  committed(handle: object, db: string, end: BinlogPosition): void {
    const s = this.state(db);
    s.committed = { filenum: end.filenum, offset: end.offset };
    const exec = this.execTimes.get(handle);
    if (exec !== undefined) s.committedExecTime = exec;
  }

  /** The protocol and version profile in use (the profile may become known later: the previous labels go to 0). */
  protocol(protocol: string, profile: string | null): void {
    const labels = { protocol, profile: profile ?? 'unknown' };
    const key = `${labels.protocol}/${labels.profile}`;
    if (key === this.protocolKey) return;
    if (this.protocolLabels) this.g.protocol?.set(0, this.protocolLabels);
    this.g.protocol?.set(1, labels);
    this.protocolKey = key;
    this.protocolLabels = labels;
  }

  gap(db: string, kind: string): void {
    this.c.gaps?.inc(1, { db, kind });
  }

  fullSync(db: string): void {
    this.c.fullSyncs?.inc(1, { db });
  }

  pushTimeout(db: string): void {
    this.c.pushTimeouts?.inc(1, { db });
  }

  filtered(reason: string, count = 1): void {
    this.c.filtered?.inc(count, { reason });
  }

  /** Sets every gauge from the task's current state. */
  sample(s: PikaMetricsSample): void {
    if (!this.facade) return;
    const now = this.now();
    for (const [db, p] of this.dbs) {
      const labels = { db };
      if (p.received) {
        this.g.receivedFile!.set(p.received.filenum, labels);
        this.g.receivedOffset!.set(p.received.offset, labels);
      }
      if (p.committed) {
        this.g.committedFile!.set(p.committed.filenum, labels);
        this.g.committedOffset!.set(p.committed.offset, labels);
      }
      const behind = positionsBehind(p.received, p.committed ?? p.base);
      if (behind) {
        this.g.filesBehind!.set(behind.files, labels);
        this.g.bytesBehind!.set(behind.bytes, labels);
      }
      if (p.committedExecTime !== undefined) this.g.msBehind!.set(Math.max(0, now - p.committedExecTime * 1000), labels);
    }
    for (const [db, ms] of Object.entries(s.msSinceLastAck)) if (ms !== null) this.g.msSinceAck!.set(ms, { db });
    this.g.awaiting!.set(s.itemsAwaitingCommit);
    if (s.reconnects > this.reconnectsSeen) {
      this.c.reconnects!.inc(s.reconnects - this.reconnectsSeen);
      this.reconnectsSeen = s.reconnects;
    }
    for (const [db, snap] of Object.entries(s.snapshots)) this.sampleSnapshot(db, snap, now);
  }

  private sampleSnapshot(db: string, snap: SnapshotProgressSample, now: number): void {
    const labels = { db };
    this.g.snapFilesDone!.set(snap.files_done, labels);
    this.g.snapFilesTotal!.set(snap.files_total, labels);
    this.g.snapBytes!.set(snap.bytes_downloaded, labels);
    this.g.snapEvents!.set(snap.events_emitted, labels);
    const total = snap.files_total;
    const percent = total > 0 ? (100 * snap.files_done) / total : 0;
    this.g.snapPercent!.set(percent, labels);
    let timing = this.snapshotTimings.get(db);
    if (!timing || snap.files_done < timing.filesDoneAtStart) {
      timing = { startedAt: now, filesDoneAtStart: snap.files_done };
      this.snapshotTimings.set(db, timing);
    }
    this.g.snapEta!.set(downloadEtaSeconds(snap.files_done, total, timing, now), labels);
  }

  private state(db: string): DbPositions {
    let s = this.dbs.get(db);
    if (!s) this.dbs.set(db, (s = {}));
    return s;
  }
}

/**
 * Files and bytes between the newest received and newest committed item (or where reading began). Bytes across files are a lower bound (the bytes of the received file only).
 */
export function positionsBehind(received: BinlogPosition | undefined, committed: BinlogPosition | undefined): { files: number; bytes: number } | undefined {
  if (!received) return undefined;
  if (!committed) return { files: 0, bytes: received.offset };
  if (committed.filenum > received.filenum || (committed.filenum === received.filenum && committed.offset >= received.offset)) return { files: 0, bytes: 0 };
  if (committed.filenum === received.filenum) return { files: 0, bytes: received.offset - committed.offset };
  return { files: received.filenum - committed.filenum, bytes: received.offset };
}

/** Seconds left at the file rate seen since the download began; 0 when done, -1 when not estimable yet. */
export function downloadEtaSeconds(done: number, total: number, timing: SnapshotTiming, now: number): number {
  if (total > 0 && done >= total) return 0;
  const progressed = done - timing.filesDoneAtStart;
  const elapsed = now - timing.startedAt;
  if (total <= 0 || progressed <= 0 || elapsed <= 0) return -1;
  return Math.round(((total - done) * elapsed) / progressed / 1000);
}
