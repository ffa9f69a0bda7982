// The PB path's full syncs (snapshot.mode, snapshot.on.gap=resync): a DB the session puts in dump mode gets a
// FullSyncJob; the jobs run one after the other (the head downloads and emits, the others wait while the session pings
// their nodes). Each snapshot record carries its snapshot position as source offset; the snapshot-end record carries
// the dump's binlog offset instead, and once the head's snapshot-end is emitted the session continues that DB's
// binlog there (TrySync at the dump offset). A DB's downloaded dump is deleted once its snapshot-end is committed
// (snapshot.download.cleanup).
import { join } from 'node:path';
import type { SourceOffset, SourceRecord, SourceTaskContext } from '../../../runtime/api/index.ts';
import { formatPosition, type BinlogPosition } from '../binlog/item.ts';
import { dbIndexFromName } from '../events/binlog-events.ts';
import type { EventFilterDecider } from '../filters/index.ts';
import type { MasterInfo } from '../replication/session.ts';
import { removeDownload } from '../rsync/index.ts';
import { PbPushReceiver } from '../rsync-daemon/index.ts';
import type { SnapshotRecord } from '../snapshot/index.ts';
import type { PikaSourceSettings } from './config.ts';
import { eventRecord } from './event-record.ts';
import { FullSyncJob } from './full-sync.ts';
import type { PikaSourceMetrics } from './metrics.ts';
import { sourceOffset, sourcePartition } from './offsets.ts';

export interface SnapshotPhaseDeps {
  settings: PikaSourceSettings;
  filter: EventFilterDecider;
  context: SourceTaskContext;
  metrics: PikaSourceMetrics;
  /** The session's current master (undefined before the first MetaSync). */
  master(): MasterInfo | undefined;
  /** Tells the session that `db`'s snapshot is emitted: its binlog continues at `at`. */
  finishDump(db: string, at: BinlogPosition): Promise<void>;
}

export class SnapshotPhase {
  /** Full syncs in order: the head downloads and emits; the others wait. */
  private readonly jobs: FullSyncJob[] = [];
  private readonly lastJobs = new Map<string, FullSyncJob>();
  /** Committed snapshot positions of snapshots that were in progress when this task started. */
  private readonly snapshotResume = new Map<string, SourceOffset>();
  private readonly abort = new AbortController();
  private fullSyncs = 0;
  private readonly dumpWarnings: string[] = [];
  /** snapshot-end records not yet committed → their job (its download is deleted once they are). */
  private readonly endRecords = new Map<SourceRecord, FullSyncJob>();
  /** Per DB, the deletion of a downloaded dump in progress (a new download of that DB waits for it). */
  private readonly cleanups = new Map<string, Promise<void>>();
  /** Pika 3.1–3.4 masters push dumps to our rsync daemon; created on the first such full sync. */
  private pushReceiver: PbPushReceiver | undefined;

  constructor(private readonly deps: SnapshotPhaseDeps) {}

  /** The full sync whose snapshot records poll serves now. */
  get head(): FullSyncJob | undefined {
    return this.jobs[0];
  }

  /** Whether a full sync of `db` was started by this task instance. */
  ran(db: string): boolean {
    return this.lastJobs.has(db);
  }

  /** A snapshot of `db` was in progress at the committed offset: its next full sync resumes after that position. */
  resumeAt(db: string, committed: SourceOffset): void {
    this.snapshotResume.set(db, committed);
  }

  /** Adds the next snapshot records of `job` (the head); after its snapshot-end the DB's binlog continues. */
  async poll(job: FullSyncJob, out: SourceRecord[], waitMs: number): Promise<void> {
    if (!(await job.ready(out.length > 0 ? 0 : waitMs))) return;
    const snapshot = await job.next(Math.max(1, this.deps.settings.pollMaxRecords - out.length));
    for (const r of snapshot) out.push(this.snapshotRecord(job, r));
    if (job.state !== 'done') return;
    this.jobs.shift();
    const at = job.dumpOffset!;
    this.deps.context.logger.info('snapshot complete: the binlog continues at the dump offset (TrySync there)', { db: job.db, dump_uuid: job.dumpUuid, dump_offset: formatPosition(at), events: job.status().events_emitted });
    await this.deps.finishDump(job.db, at);
    this.jobs[0]?.begin();
  }

  private snapshotRecord(job: FullSyncJob, r: SnapshotRecord): SourceRecord {
    const s = this.deps.settings;
    const db = dbIndexFromName(job.db);
    const partition = sourcePartition(s.sourceId, db);
    const end = r.event.op === 'snapshot-end';
    // After snapshot-end the DB is a binlog reader at the dump offset: a restart continues there, not in the dump.
    const offset = end
      ? { ...sourceOffset(job.dumpOffset!, 0, 0, this.deps.master()?.replicationId ?? null, undefined), snapshot_dump_uuid: job.dumpUuid ?? null }
      : r.offset;
    const topic = s.streamMode === 'single' ? s.topicSingle : s.topicSnapshot;
    const record = eventRecord(r.event, { sourcePartition: partition, sourceOffset: offset, topic }, this.deps.filter, r.dlqReason);
    if (end) this.endRecords.set(record, job);
    return record;
  }

  /** 3.1–3.4 (MetaSync without run_id): the daemon must be up and the DB's receiving directory empty before DBSync. */
  async beforeDbSync(db: string, master: MasterInfo): Promise<void> {
    if (master.runId !== null) return;
    const s = this.deps.settings;
    this.pushReceiver ??= new PbPushReceiver({
      replicaIp: s.replicaIp, replicaPort: s.replicaPort, daemonPort: s.replicaRsyncPort, bind: s.replicaRsyncBind,
      masterHost: s.host, masterPort: s.port, password: s.password, dir: this.dir(), logger: this.deps.context.logger,
      pushTimeoutMs: s.snapshotPushTimeoutMs, connector: this.deps.context.connectorName, onPushTimeout: (timedOut) => this.deps.metrics.pushTimeout(timedOut),
    });
    const running = this.lastJobs.get(db);
    await this.pushReceiver.prepare(db, !running || running.state === 'done');
  }

  onDumpAccepted(db: string): void {
    const running = this.lastJobs.get(db);
    if (running && running.state !== 'done') return; // DBSync again after a reconnect: the same full sync goes on
    const s = this.deps.settings;
    const master = this.deps.master();
    const job = new FullSyncJob(db, {
      host: s.host,
      rsyncPort: s.rsyncPort,
      dir: this.dir(),
      bytesPerSecond: s.snapshotFetchBytesPerSecond,
      snapshot: {
        db,
        sourceId: s.sourceId,
        source: { host: s.host, port: s.port, replication_id: master?.replicationId ?? null },
        maxElementsPerEvent: s.snapshotMaxElementsPerEvent,
        maxBytesPerEvent: s.snapshotMaxBytesPerEvent,
        oversizePolicy: s.snapshotOversizePolicy,
        decodeThreads: s.snapshotDecodeThreads,
        blockThread: s.snapshotDecodeBlockThread,
        onWarning: (m) => this.onDumpWarning(db, m),
      },
      logger: this.deps.context.logger,
      signal: this.abort.signal,
      resumeFrom: this.snapshotResume.get(db),
      after: this.cleanups.get(db),
      onWarning: (m) => this.onDumpWarning(db, m),
      pushed: master?.runId === null ? this.pushReceiver : undefined,
    });
    this.snapshotResume.delete(db);
    this.lastJobs.set(db, job);
    this.jobs.push(job);
    this.fullSyncs++;
    this.deps.metrics.fullSync(db);
    if (this.jobs.length === 1) job.begin();
  }

  private onDumpWarning(db: string, message: string): void {
    this.deps.context.logger.warn(message, { db });
    if (this.dumpWarnings.length < 20) this.dumpWarnings.push(`${db}: ${message}`);
  }

  private dir(): string {
    return this.deps.settings.snapshotDir ?? join('data', 'pika-connect', this.deps.context.connectorName, 'dumps');
  }

  /** A crash between the commit of snapshot-end and the deletion of its dump left dump `uuid` of `db` behind. */
  removeLeftover(db: string, uuid: string): void {
    if (!/^[0-9a-f]{32}$/.test(uuid) || this.lastJobs.has(db)) return;
    this.cleanUp(db, async () => {
      const removed = await removeDownload(this.dir(), db, uuid);
      if (removed) this.deps.context.logger.info('downloaded dump deleted: its snapshot was committed to Kafka before the restart', { db, dump_uuid: uuid });
      return removed;
    });
  }

  /**
   * snapshot.download.cleanup: deletes a downloaded dump in the background, after any earlier deletion for the DB.
   * `remove` resolves true when it deleted something.
   */
  private cleanUp(db: string, remove: () => Promise<boolean>): void {
    if (!this.deps.settings.snapshotDownloadCleanup) return;
    const done = (this.cleanups.get(db) ?? Promise.resolve())
      .then(remove)
      .then(
        () => {},
        (err: unknown) => this.deps.context.logger.warn('could not delete the downloaded dump; it stays on disk', { db, dir: this.dir(), error: (err as Error).message }),
      );
    this.cleanups.set(db, done);
  }

  /** `record` is in a committed transaction: a committed snapshot-end lets its DB's download go. */
  commitRecord(record: SourceRecord): void {
    const job = this.endRecords.get(record);
    if (!job) return;
    this.endRecords.delete(record);
    // Its snapshot-end is in Kafka now. A newer full sync of the DB (resync) owns the directory: it cleans up.
    if (this.lastJobs.get(job.db) === job) this.cleanUp(job.db, () => job.removeDownload());
  }

  /** Stops the downloads and emission, waits for dump deletions in progress and stops the rsync daemon. */
  async close(): Promise<void> {
    this.abort.abort();
    for (const job of this.jobs) await job.close().catch(() => {});
    await Promise.all(this.cleanups.values());
    await this.pushReceiver?.stop();
  }

  /** Per DB, the status of its last full sync. */
  dbStatus(): Record<string, ReturnType<FullSyncJob['status']>> {
    return Object.fromEntries([...this.lastJobs].map(([db, job]) => [db, job.status()]));
  }

  /** The `snapshot` block of the task's status. */
  status(resyncs: number): Record<string, unknown> {
    const master = this.deps.master();
    return {
      full_syncs: this.fullSyncs,
      resyncs,
      dbs: this.dbStatus(),
      warnings: this.dumpWarnings,
      streams_not_in_dump: this.dumpWarnings.some((w) => /streams/.test(w)),
      transport: master ? (master.runId === null ? 'rsync-push' : 'rsync2') : null,
      ...(this.pushReceiver ? { rsync_push: this.pushReceiver.status() } : {}),
    };
  }
}
