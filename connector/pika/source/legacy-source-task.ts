// The Pika source task's path for legacy masters (2.x / 3.0, sync.protocol=legacy or auto → legacy): a
// LegacySession's items become binlog records. One keyspace: every record is DB 0 (source partition db 0).
//
// Source offset of a legacy record: the PB fields (filenum/offset = the item's end as far as it is known, logic_id,
// term 0, replication_id null) plus `server_id` and the resume point `resume_filenum`/`resume_offset` = the item's
// START with `resume_skip` true: a restart TRYSYNCs there and drops that one item when the master sends it again
// (legacy-session.ts says why the start, not the end). Legacy masters take no acks, so `commit` has nothing to send;
// exactly-once rests on the committed offset alone.
//
// Start without a committed offset: snapshot.mode=never → the master's current binlog_offset (INFO), else 0:0;
// initial / when_needed → TRYSYNC 0:0 like a fresh 3.0 replica (the master streams its whole binlog while it still
// has write2file0); always → forced full sync.
//
// Full sync (pika-protocol.md §2.2, §7.5; the real replica's sequence in pika-vectors-3.0.16-legacy): TRYSYNC
// answered `wait` → our rsync daemon on pika.replica.port + 3000 (module `document_<pika.host>:<pika.port>`, no
// login) → the master's push, `info` last → the dump moved out of the module → snapshot events (the PB path's
// FullSyncJob, event_type snapshot, snapshot positions as source offsets) → snapshot-end carries the dump offset →
// TRYSYNC there, binlog. A restart inside the snapshot resumes after its last committed event when the pushed dump
// of that snapshot is still on local disk; otherwise it asks for a new full sync and the snapshot restarts.
import { ConnectError, type SourceOffset, type SourceRecord, type SourceTaskContext } from '../../../runtime/api/index.ts';
import { formatPosition } from '../binlog/item.ts';
import { eventRecord } from './event-record.ts';
import type { EventFilterDecider } from '../filters/index.ts';
import { legacyFrameToEvents } from '../legacy/legacy-events.ts';
import { LegacySession, type LegacyQueuedItem, type LegacyStart, type LegacyTimings } from '../legacy/legacy-session.ts';
import type { PikaSourceSettings } from './config.ts';
import type { PikaSourceMetrics } from './metrics.ts';
import { parseCommittedOffset, sourceOffset, sourcePartition } from './offsets.ts';
import type { ProtocolSelection } from './protocol-selection.ts';
import { nemoFullSyncError } from '../legacy/protocol-detect.ts';
import { join } from 'node:path';
import type { BinlogPosition } from '../binlog/item.ts';
import type { LegacyResume } from '../legacy/legacy-session.ts';
import { PbPushReceiver, legacyMasterIp } from '../rsync-daemon/index.ts';
import type { SnapshotRecord } from '../snapshot/index.ts';
import { FullSyncJob } from './full-sync.ts';

const POLL_WAIT_MS = 500;
const STATUS_EVERY_MS = 1000;
const DB = 'db0';

export interface LegacyTaskOptions {
  timings?: Partial<LegacyTimings>;
}

export class LegacySourceTask {
  private readonly session: LegacySession;
  private readonly handles = new Map<SourceRecord, object>();
  private lastStatusAt = 0;
  private committedItems = 0;
  private readonly push: PbPushReceiver;
  /** The committed snapshot position when the task started inside a snapshot. */
  private snapshotResume: SourceOffset | undefined;
  private job: FullSyncJob | undefined;
  private lastJob: FullSyncJob | undefined;
  /** Settles the session's `onWait` once the snapshot is emitted (or the task stops). */
  private jobDone: { resolve(r: LegacyResume): void; reject(e: Error): void } | undefined;
  private readonly endRecords = new Map<SourceRecord, FullSyncJob>();
  private fullSyncs = 0;
  private warnedDaemon = false;

  constructor(
    private readonly settings: PikaSourceSettings,
    private readonly filter: EventFilterDecider,
    private readonly context: SourceTaskContext,
    private readonly metrics: PikaSourceMetrics,
    private readonly selection: ProtocolSelection,
    options: LegacyTaskOptions = {},
  ) {
    const s = settings;
    if (s.replicaIp === undefined || s.replicaPort === undefined) {
      throw new ConnectError(
        `${selection.reason}: a legacy (Pika 2.x/3.0) master needs pika.replica.ip and pika.replica.port — the address reported in TRYSYNC, which the master connects back to (port + 1000 binlog, port + 3000 rsync full sync)`,
        { code: 'CONFIG', stage: 'config' });
    }
    this.session = new LegacySession({
      host: s.host, port: s.port, heartbeatPort: s.replPort, password: s.password,
      replicaIp: s.replicaIp, replicaPort: s.replicaPort, receiverHost: s.legacyListenHost, receiverPort: s.legacyReceiverPort,
      start: this.startPoint(), logger: context.logger,
      timings: { heartbeatTimeoutMs: s.silenceTimeoutMs, ...options.timings },
      onWait: (_at, masterAddress) => this.onWait(masterAddress),
      beforeTrysync: (masterAddress) => this.beforeTrysync(masterAddress),
    });
    this.push = new PbPushReceiver({
      legacy: true, replicaIp: s.replicaIp, replicaPort: s.replicaPort, daemonPort: s.replicaRsyncPort, bind: s.replicaRsyncBind,
      masterHost: s.host, masterPort: s.port, password: undefined, dir: this.snapshotDir(), logger: context.logger,
      pushTimeoutMs: s.snapshotPushTimeoutMs, connector: context.connectorName, onPushTimeout: (db) => this.metrics.pushTimeout(db),
    });
  }

  start(): void {
    if (this.snapshotResume) {
      void this.resumeSnapshot();
      return;
    }
    this.session.start();
  }

  /** Started inside a snapshot: continue it from the local copy of its dump, else a new full sync. */
  private async resumeSnapshot(): Promise<void> {
    const uuid = String(this.snapshotResume!.dump_uuid);
    const local = await this.push.completed(DB, uuid).catch(() => undefined);
    if (!local) {
      this.context.logger.warn('a snapshot was in progress but its pushed dump is no longer on local disk: full sync again (TRYSYNC force); the snapshot restarts from its beginning', { db: DB, dump_uuid: uuid });
      this.session.start();
      return;
    }
    this.beginJob();
  }

  /**
   * Like the real 3.0 replica, the rsync daemon is up before each TRYSYNC (a master quick to bgsave pushes right
   * after `wait`), under the module name the master will use. Best effort: a daemon that cannot start is reported
   * by `onWait` if the master asks for a full sync; a binlog-only sync does not need it.
   */
  private async beforeTrysync(masterAddress: string | undefined): Promise<void> {
    if (this.selection.profile === 'legacy-2.x') return; // its full sync is refused (onWait)
    try {
      await this.push.useLegacyMasterIp(legacyMasterIp(masterAddress, this.settings.host));
      await this.push.startNow();
    } catch (error) {
      if (!this.warnedDaemon) this.context.logger.warn('the rsync daemon for a full sync pushed by the master could not start before TRYSYNC; it is tried again if the master answers "wait"', { error: (error as Error).message });
      this.warnedDaemon = true;
    }
  }

  private onWait(masterAddress: string | undefined): Promise<LegacyResume> {
    if (this.selection.profile === 'legacy-2.x') return Promise.reject(nemoFullSyncError(this.selection.info?.version));
    return new Promise<LegacyResume>((resolve, reject) => {
      this.jobDone = { resolve, reject };
      this.push.useLegacyMasterIp(legacyMasterIp(masterAddress, this.settings.host)).then(() => this.push.prepare(DB, true)).then(() => this.beginJob(), (error: Error) => {
        this.jobDone = undefined;
        reject(error);
      });
    });
  }

  private beginJob(): void {
    const s = this.settings;
    const log = this.context.logger;
    const job = new FullSyncJob(DB, {
      host: s.host, rsyncPort: 0, dir: this.snapshotDir(), bytesPerSecond: s.snapshotFetchBytesPerSecond,
      snapshot: {
        db: DB, sourceId: s.sourceId, source: { host: s.host, port: s.port, replication_id: null },
        maxElementsPerEvent: s.snapshotMaxElementsPerEvent, maxBytesPerEvent: s.snapshotMaxBytesPerEvent, oversizePolicy: s.snapshotOversizePolicy,
        decodeThreads: s.snapshotDecodeThreads, blockThread: s.snapshotDecodeBlockThread,
        onWarning: (m) => log.warn(m, { db: DB }),
      },
      logger: log, signal: this.context.signal, resumeFrom: this.snapshotResume, onWarning: (m) => log.warn(m, { db: DB }),
      pushed: this.push,
    });
    this.snapshotResume = undefined;
    this.job = job;
    this.lastJob = job;
    this.fullSyncs++;
    this.metrics.fullSync(DB);
    job.begin();
  }

  private async pollSnapshot(job: FullSyncJob): Promise<SourceRecord[]> {
    const out: SourceRecord[] = [];
    try {
      if (!(await job.ready(POLL_WAIT_MS))) return out;
      for (const r of await job.next(this.settings.pollMaxRecords)) out.push(this.snapshotRecord(job, r));
    } catch (error) {
      const e = error as ConnectError;
      this.jobDone?.reject(e);
      this.jobDone = undefined;
      throw new ConnectError(`legacy full sync failed: ${e.message}`, { code: e.code ?? 'PIKA_LEGACY_FULL_SYNC', stage: 'poll', retriable: retriable(e), cause: e });
    }
    if (job.state !== 'done') return out;
    this.job = undefined;
    const resume: LegacyResume = { position: job.dumpOffset!, skipItemAt: false };
    this.context.logger.info('snapshot complete: TRYSYNC at the dump offset, the binlog continues there', { db: DB, dump_uuid: job.dumpUuid, dump_offset: formatPosition(resume.position), events: job.status().events_emitted });
    const done = this.jobDone;
    this.jobDone = undefined;
    if (done) done.resolve(resume);
    else this.session.startAt(resume);
    return out;
  }

  private snapshotRecord(job: FullSyncJob, r: SnapshotRecord): SourceRecord {
    const s = this.settings;
    const end = r.event.op === 'snapshot-end';
    const at = job.dumpOffset!;
    // After snapshot-end the binlog continues at the dump offset: a restart TRYSYNCs there, nothing to skip.
    const offset: SourceOffset = end
      ? { ...sourceOffset(at, 0, 0, null, undefined), snapshot_dump_uuid: job.dumpUuid ?? null, resume_filenum: at.filenum, resume_offset: at.offset, resume_skip: false }
      : r.offset;
    const topic = s.streamMode === 'single' ? s.topicSingle : s.topicSnapshot;
    const record = eventRecord(r.event, { sourcePartition: sourcePartition(s.sourceId, 0), sourceOffset: offset, topic }, this.filter, r.dlqReason);
    if (end) this.endRecords.set(record, job);
    return record;
  }

  private snapshotDir(): string {
    return this.settings.snapshotDir ?? join('data', 'pika-connect', this.context.connectorName, 'dumps');
  }

  private startPoint(): LegacyStart {
    const s = this.settings;
    const log = this.context.logger;
    const partition = sourcePartition(s.sourceId, 0);
    const committed = this.context.offsets.offset(partition);
    if (committed?.phase === 'snapshot') {
      this.snapshotResume = committed;
      log.info('a snapshot was in progress: resuming after its last committed event if its pushed dump is still on local disk, else full sync again', { db: DB, dump_uuid: committed.dump_uuid, stage: committed.stage, seq: committed.seq });
      return 'force';
    }
    if (committed && s.snapshotMode !== 'always') {
      const position = parseCommittedOffset(partition, committed);
      const rf = committed.resume_filenum;
      const ro = committed.resume_offset;
      if (typeof rf === 'number' && typeof ro === 'number') {
        const resume = { position: { filenum: rf, offset: ro }, skipItemAt: committed.resume_skip !== false };
        log.info('resuming from the committed offset (TRYSYNC at the last committed item\'s start; that item is dropped when it comes again)', { db: DB, resume: formatPosition(resume.position), end: formatPosition(position), logic_id: position.logicId });
        return resume;
      }
      log.info('resuming from the committed offset (an offset without a legacy resume point: TRYSYNC at its position)', { db: DB, position: formatPosition(position) });
      return { position, skipItemAt: false };
    }
    if (s.snapshotMode === 'always') {
      log.info('snapshot.mode=always: forced full sync (TRYSYNC force)', { db: DB });
      return 'force';
    }
    if (s.snapshotMode === 'never') {
      const current = this.selection.info?.binlogOffset;
      if (current) {
        log.warn('no committed offset: starting at the master\'s current binlog position (snapshot.mode=never); data written before is not captured', { db: DB, position: formatPosition(current) });
        return { position: current, skipItemAt: false };
      }
      log.warn('no committed offset and the master\'s INFO gave no binlog_offset: starting at 0:0 (snapshot.mode=never)', { db: DB });
      return { position: { filenum: 0, offset: 0 }, skipItemAt: false };
    }
    log.info(`no committed offset (snapshot.mode=${s.snapshotMode}): TRYSYNC from 0:0 like a fresh Pika 3.0 replica — the master streams its whole binlog while it still has write2file0, else it needs a full sync`, { db: DB });
    return { position: { filenum: 0, offset: 0 }, skipItemAt: false };
  }

  async poll(): Promise<SourceRecord[]> {
    if (this.job) {
      const records = await this.pollSnapshot(this.job);
      for (const r of records) if (r.filteredBy !== undefined) this.metrics.filtered(r.filteredBy);
      this.maybeReportStatus();
      return records;
    }
    let items: LegacyQueuedItem[];
    try {
      items = await this.session.take(this.settings.pollMaxRecords, POLL_WAIT_MS, this.context.signal);
    } catch (error) {
      this.reportStatus();
      const e = error as ConnectError;
      throw new ConnectError(e.message, { code: e.code ?? 'PIKA_LEGACY', stage: 'poll', retriable: retriable(e), cause: e });
    }
    const records: SourceRecord[] = [];
    for (const item of items) this.toRecords(item, records);
    for (const r of records) if (r.filteredBy !== undefined) this.metrics.filtered(r.filteredBy);
    this.maybeReportStatus();
    return records;
  }

  private maybeReportStatus(): void {
    const now = Date.now();
    if (now - this.lastStatusAt >= STATUS_EVERY_MS) {
      this.lastStatusAt = now;
      this.reportStatus();
    }
  }

  private toRecords(received: LegacyQueuedItem, out: SourceRecord[]): void {
    const s = this.settings;
    const { item, end } = received;
    const events = legacyFrameToEvents({ kind: 'binlog', item, end }, { sourceId: s.sourceId, host: s.host, port: s.port });
    const handle = {};
    this.metrics.received(handle, DB, item.start, end, item.execTime);
    if (events.length === 0) this.metrics.committed(handle, DB, end);
    const topic = s.streamMode === 'single' ? s.topicSingle : s.topicBinlog;
    const partition = sourcePartition(s.sourceId, 0);
    events.forEach((event, index) => {
      const offset: SourceOffset = {
        ...sourceOffset(end, item.logicId, 0, null, events.length > 1 ? index : undefined),
        server_id: item.serverId,
        resume_filenum: item.start.filenum,
        resume_offset: item.start.offset,
        resume_skip: true,
      };
      const record = eventRecord(event, { sourcePartition: partition, sourceOffset: offset, topic }, this.filter);
      this.handles.set(record, handle);
      out.push(record);
    });
  }

  commitRecord(record: SourceRecord): void {
    const job = this.endRecords.get(record);
    if (job) {
      // snapshot-end is in Kafka: the pushed dump is not needed for a restart any more.
      this.endRecords.delete(record);
      job.removeDownload().catch((error: Error) => this.context.logger.warn('could not delete the pushed dump', { db: DB, error: error.message }));
    }
    const handle = this.handles.get(record);
    if (!handle) return;
    this.handles.delete(record);
    this.committedItems++;
    const o = record.sourceOffset;
    this.metrics.committed(handle, DB, { filenum: o.filenum as number, offset: o.offset as number });
  }

  /** Legacy masters take no acks: nothing to send. */
  commit(): void {}

  async stop(): Promise<void> {
    this.jobDone?.reject(new Error('stopped'));
    this.jobDone = undefined;
    await this.session.stop();
    await this.job?.close();
    await this.push.stop();
    this.reportStatus();
  }

  reportStatus(): void {
    const session = this.session;
    const resume = session.resumePoint;
    this.metrics.sample({
      msSinceLastAck: {}, itemsAwaitingCommit: this.handles.size, reconnects: session.stats.reconnects,
      snapshots: this.lastJob ? { [DB]: this.lastJob.status() } : {},
    });
    this.context.reportStatus({
      sync_protocol: { setting: this.selection.setting, protocol: 'legacy', profile: session.profile ?? this.selection.profile, reason: this.selection.reason, pika_version: this.selection.info?.version ?? null },
      replication: {
        streaming: session.isStreaming,
        generation: session.currentGeneration,
        master: { host: this.settings.host, port: this.settings.port, heartbeat_port: session.heartbeatPort, server_id: session.serverId, profile: session.profile ?? this.selection.profile },
        replica: { reported: session.reportedIp !== null ? `${session.reportedIp}:${this.settings.replicaPort}` : null, binlog_receiver_port: session.receiverPort },
        sid: session.sid,
        resume: resume === 'force' ? 'force' : { position: formatPosition(resume.position), skip_item_at: resume.skipItemAt },
        records_awaiting_commit: this.handles.size,
        full_syncs: this.fullSyncs,
        full_sync: this.lastJob ? this.lastJob.status() : null,
        rsync_push: this.push.status(),
        last_error: session.lastError,
        ...session.stats,
      },
    });
  }
}

/** Errors outside the ConnectError vocabulary (sockets, files) count as transient, as the runtime treats them. */
function retriable(error: Error): boolean {
  return !(error instanceof ConnectError) || error.retriable;
}
