// The Pika source task: one replication session to the master (all DBs on one connection), binlog items turned
// into events, records handed to the runtime, and acks sent to the master only for items whose records are in a
// committed Kafka transaction (`commitRecord` → `commit`).
//
// Full sync (snapshot.mode, snapshot.on.gap=resync): a DB that needs one gets DBSync on the replication
// connection; its dump is downloaded and turned into snapshot events (one DB after the other), each carrying the
// snapshot position as source offset; the snapshot-end event carries the dump's binlog offset instead, and right
// after it the session continues that DB's binlog there (TrySync at the dump offset).
//
// Spill log (spill.enabled=true, ../spill/spill-coordinator.ts): when Kafka stops committing, items are logged
// locally and acknowledged after the fsync; poll serves logged items before live ones; a failed incarnation keeps
// its session following the master into the log until the next incarnation starts (../spill/kept-followers.ts).
import { join } from 'node:path';
import { ConnectError, docRef, extendMessage, type Logger, type SourceOffset, type SourceRecord, type SourceTask, type SourceTaskContext, type TaskConfig } from '../../../runtime/api/index.ts';
import { isSnapshotOffset, parseSnapshotPosition, type SnapshotRecord } from '../snapshot/index.ts';
import { FullSyncJob } from './full-sync.ts';
import { removeDownload } from '../rsync/index.ts';
import { binlogItemToEvents, dbIndexFromName } from '../events/binlog-events.ts';
import { eventRecord } from './event-record.ts';
import { formatPosition, type BinlogPosition } from '../binlog/item.ts';
import { AckTracker, type TrackedItem } from '../replication/ack-tracker.ts';
import type { SessionClock, SessionTimings } from '../replication/clock.ts';
import { ReplicationGapError } from '../replication/errors.ts';
import { ReplicationSession, type MasterInfo, type ReceivedItem, type StartPoint } from '../replication/session.ts';
import { pikaSourceSettings, validatePikaSource, type PikaSourceSettings } from './config.ts';
import { parseCommittedOffset, sourceOffset, sourcePartition } from './offsets.ts';
import { buildFilterDecider, type EventFilterDecider } from '../filters/index.ts';
import { PikaSourceMetrics } from './metrics.ts';
import { selectSyncProtocol, type ProtocolSelection } from './protocol-selection.ts';
import { LegacySourceTask } from './legacy-source-task.ts';
import type { LegacyTimings } from '../legacy/legacy-session.ts';
import { PbPushReceiver } from '../rsync-daemon/index.ts';
import { SpillCoordinator, type SpillSource, type SpillStartInfo } from '../spill/spill-coordinator.ts';
import type { SpilledItem } from '../spill/spill-record.ts';
import { forgetFollower, keepFollower, releaseFollower } from '../spill/kept-followers.ts';
import type { BinlogItem } from '../binlog/item.ts';

const POLL_WAIT_MS = 500;
const STATUS_EVERY_MS = 1000;

/**
 * Distinct gaps seen per connector in this process. A failed task is restarted as a new instance and meets the same
 * gap again: that is one gap (`gaps`), reported once more (`gap_reports`).
 */
const gapsSeen = new Map<string, { gaps: Set<string>; reports: number }>();

/** Test seams: scaled timers and a fake clock. */
export interface PikaSourceTaskOptions {
  timings?: Partial<SessionTimings>;
  clock?: SessionClock;
  legacyTimings?: Partial<LegacyTimings>;
  /** sync.protocol=auto: how long the PB probe waits for an answer. */
  probeTimeoutMs?: number;
}

export class PikaSourceTask implements SourceTask {
  private settings!: PikaSourceSettings;
  /** filter.* rules; a dropped event still advances the offset and the ack (SourceRecord.filteredBy). */
  private filter!: EventFilterDecider;
  private context!: SourceTaskContext;
  private metrics!: PikaSourceMetrics;
  private session!: ReplicationSession;
  /** Replaced when the spill log takes over the acks of the items it tracked. */
  private tracker = new AckTracker();
  private readonly inflight = new Map<SourceRecord, TrackedItem>();
  private lastStatusAt = 0;
  private stopped = false;
  /** Full syncs in order: the head downloads and emits; the others wait (their nodes are pinged meanwhile). */
  private readonly jobs: FullSyncJob[] = [];
  private readonly lastJobs = new Map<string, FullSyncJob>();
  /** Committed snapshot positions of snapshots that were in progress when this task started. */
  private readonly snapshotResume = new Map<string, SourceOffset>();
  private readonly abort = new AbortController();
  private fullSyncs = 0;
  private resyncs = 0;
  private readonly dumpWarnings: string[] = [];
  /** sync.protocol's outcome; a legacy master's task path is `legacy` (everything below is the PB path). */
  private selection: ProtocolSelection | undefined;
  private legacy: LegacySourceTask | undefined;
  /** snapshot-end records not yet committed → their job (its download is deleted once they are). */
  private readonly endRecords = new Map<SourceRecord, FullSyncJob>();
  /** Per DB, the deletion of a downloaded dump in progress (a new download of that DB waits for it). */
  private readonly cleanups = new Map<string, Promise<void>>();
  /** Pika 3.1–3.4 masters push dumps to our rsync daemon; created on the first such full sync. */
  private pushReceiver: PbPushReceiver | undefined;
  private spill: SpillCoordinator | undefined;
  /** With a spill log: per DB the items not yet acknowledged, in arrival order (the log takes them over). */
  private readonly unacked = new Map<string, Array<{ received: ReceivedItem; tracked: TrackedItem }>>();
  /** Poll is inside session.take (spilling must not start then: it takes from the session too). */
  private taking = false;
  private sessionFailed = false;

  constructor(private readonly options: PikaSourceTaskOptions = {}) {}

  async start(config: TaskConfig, context: SourceTaskContext): Promise<void> {
    const issues = validatePikaSource(config);
    if (issues.length > 0) {
      throw new ConnectError(`invalid Pika source configuration: ${issues.map((i) => `${i.key}: ${i.message}`).join('; ')}`, { code: 'CONFIG', stage: 'config' });
    }
    this.settings = pikaSourceSettings(config);
    this.filter = buildFilterDecider(config);
    this.context = context;
    this.metrics = new PikaSourceMetrics(context.metrics);
    const s = this.settings;
    const log = context.logger;
    if (Number(config['tasks.max'] ?? '1') > 1) {
      log.info('tasks.max > 1 is ignored: a Pika master is read over one replication connection, so this connector runs one task', { 'tasks.max': config['tasks.max'] });
    }
    this.selection = await selectSyncProtocol(s.syncProtocol, { host: s.host, port: s.port, replPort: s.replPort, password: s.password }, log, this.options.probeTimeoutMs);
    this.metrics.protocol(this.selection.protocol, this.selection.profile);
    if (this.selection.protocol === 'legacy') {
      this.legacy = new LegacySourceTask(s, this.filter, context, this.metrics, this.selection, { timings: this.options.legacyTimings });
      if (s.spillEnabled) log.warn('spill.enabled is ignored on a legacy master (its sync has no acks to keep the binlog): this task has no spill log');
      this.legacy.start();
      return;
    }
    if (s.spillEnabled) {
      const key = `${context.connectorName}/${context.taskId}`;
      await releaseFollower(key);
      const dir = s.spillDir ?? join('data', 'pika-connect', context.connectorName, 'spill');
      this.spill = await SpillCoordinator.open({ dir, maxBytes: s.spillMaxBytes, afterMs: s.spillAfterMs, batchItems: s.pollMaxRecords }, this.spillStartInfo(), log);
    }
    this.session = new ReplicationSession({
      host: s.host,
      port: s.replPort,
      password: s.password,
      identity: s.replicaIp !== undefined && s.replicaPort !== undefined ? { ip: s.replicaIp, port: s.replicaPort } : undefined,
      dbs: s.dbs,
      start: (db, master) => this.startPoint(db, master, log),
      beforeDbSync: (db, master) => this.beforeDbSync(db, master),
      onDumpAccepted: (db) => this.onDumpAccepted(db),
      onGap: (gap) => this.onHandshakeGap(gap),
      logger: log,
      timings: { pingIntervalMs: s.pingIntervalMs, silenceTimeoutMs: s.silenceTimeoutMs, ...this.options.timings },
      clock: this.options.clock,
    });
    this.session.start();
    this.spill?.attach(this.spillSource());
  }

  async poll(): Promise<SourceRecord[]> {
    if (this.legacy) return this.legacy.poll();
    if (this.spill && await this.spill.replaying()) return this.pollSpilled(this.spill);
    let items: ReceivedItem[];
    const job = this.jobs[0];
    try {
      this.taking = true;
      items = await this.session.take(this.settings.pollMaxRecords, job ? 0 : POLL_WAIT_MS, this.context.signal);
    } catch (error) {
      throw this.onSessionFailure(error as Error);
    } finally {
      this.taking = false;
    }
    const records: SourceRecord[] = [];
    for (const received of items) this.toRecords(received, records);
    if (records.length < items.length) this.flushAcks(); // items without records may be ackable right away
    if (job) await this.pollSnapshot(job, records);
    for (const r of records) if (r.filteredBy !== undefined) this.metrics.filtered(r.filteredBy);
    this.maybeReportStatus();
    return records;
  }

  /** Adds the next snapshot records of the head full sync; after its snapshot-end the DB's binlog continues. */
  private async pollSnapshot(job: FullSyncJob, out: SourceRecord[]): Promise<void> {
    if (!(await job.ready(out.length > 0 ? 0 : POLL_WAIT_MS))) return;
    const snapshot = await job.next(Math.max(1, this.settings.pollMaxRecords - out.length));
    for (const r of snapshot) out.push(this.snapshotRecord(job, r));
    if (job.state !== 'done') return;
    this.jobs.shift();
    const at = job.dumpOffset!;
    this.context.logger.info('snapshot complete: the binlog continues at the dump offset (TrySync there)', { db: job.db, dump_uuid: job.dumpUuid, dump_offset: formatPosition(at), events: job.status().events_emitted });
    await this.session.finishDump(job.db, at);
    this.jobs[0]?.begin();
  }

  private snapshotRecord(job: FullSyncJob, r: SnapshotRecord): SourceRecord {
    const s = this.settings;
    const db = dbIndexFromName(job.db);
    const partition = sourcePartition(s.sourceId, db);
    const end = r.event.op === 'snapshot-end';
    // After snapshot-end the DB is a binlog reader at the dump offset: a restart continues there, not in the dump.
    const offset = end
      ? { ...sourceOffset(job.dumpOffset!, 0, 0, this.session.master?.replicationId ?? null, undefined), snapshot_dump_uuid: job.dumpUuid ?? null }
      : r.offset;
    const topic = s.streamMode === 'single' ? s.topicSingle : s.topicSnapshot;
    const record = eventRecord(r.event, { sourcePartition: partition, sourceOffset: offset, topic }, this.filter, r.dlqReason);
    if (end) this.endRecords.set(record, job);
    return record;
  }

  /** 3.1–3.4 (MetaSync without run_id): the daemon must be up and the DB's receiving directory empty before DBSync. */
  private async beforeDbSync(db: string, master: MasterInfo): Promise<void> {
    if (master.runId !== null) return;
    const s = this.settings;
    this.pushReceiver ??= new PbPushReceiver({
      replicaIp: s.replicaIp, replicaPort: s.replicaPort, daemonPort: s.replicaRsyncPort, bind: s.replicaRsyncBind,
      masterHost: s.host, masterPort: s.port, password: s.password, dir: this.snapshotDir(), logger: this.context.logger,
    });
    const running = this.lastJobs.get(db);
    await this.pushReceiver.prepare(db, !running || running.state === 'done');
  }

  private onDumpAccepted(db: string): void {
    const running = this.lastJobs.get(db);
    if (running && running.state !== 'done') return; // DBSync again after a reconnect: the same full sync goes on
    const s = this.settings;
    const log = this.context.logger;
    const job = new FullSyncJob(db, {
      host: s.host,
      rsyncPort: s.rsyncPort,
      dir: this.snapshotDir(),
      bytesPerSecond: s.snapshotFetchBytesPerSecond,
      snapshot: {
        db,
        sourceId: s.sourceId,
        source: { host: s.host, port: s.port, replication_id: this.session.master?.replicationId ?? null },
        maxElementsPerEvent: s.snapshotMaxElementsPerEvent,
        maxBytesPerEvent: s.snapshotMaxBytesPerEvent,
        oversizePolicy: s.snapshotOversizePolicy,
        onWarning: (m) => this.onDumpWarning(db, m),
      },
      logger: log,
      signal: this.abort.signal,
      resumeFrom: this.snapshotResume.get(db),
      after: this.cleanups.get(db),
      onWarning: (m) => this.onDumpWarning(db, m),
      pushed: this.session.master?.runId === null ? this.pushReceiver : undefined,
    });
    this.snapshotResume.delete(db);
    this.lastJobs.set(db, job);
    this.jobs.push(job);
    this.fullSyncs++;
    this.metrics.fullSync(db);
    if (this.jobs.length === 1) job.begin();
  }

  private onDumpWarning(db: string, message: string): void {
    this.context.logger.warn(message, { db });
    if (this.dumpWarnings.length < 20) this.dumpWarnings.push(`${db}: ${message}`);
  }

  private snapshotDir(): string {
    return this.settings.snapshotDir ?? join('data', 'pika-connect', this.context.connectorName, 'dumps');
  }

  /**
   * snapshot.download.cleanup: deletes a downloaded dump in the background, after any earlier deletion for the DB.
   * `remove` resolves true when it deleted something.
   */
  private cleanUp(db: string, remove: () => Promise<boolean>): void {
    if (!this.settings.snapshotDownloadCleanup) return;
    const done = (this.cleanups.get(db) ?? Promise.resolve())
      .then(remove)
      .then(
        () => {},
        (err: unknown) => this.context.logger.warn('could not delete the downloaded dump; it stays on disk', { db, dir: this.snapshotDir(), error: (err as Error).message }),
      );
    this.cleanups.set(db, done);
  }

  commitRecord(record: SourceRecord): void {
    if (this.legacy) return this.legacy.commitRecord(record);
    const job = this.endRecords.get(record);
    if (job) {
      this.endRecords.delete(record);
      // Its snapshot-end is in Kafka now. A newer full sync of the DB (resync) owns the directory: it cleans up.
      if (this.lastJobs.get(job.db) === job) this.cleanUp(job.db, () => job.removeDownload());
    }
    if (this.spill && !isSnapshotOffset(record.sourceOffset)) {
      this.spill.noteCommitted(`db${record.sourcePartition.db}`, { filenum: Number(record.sourceOffset.filenum), offset: Number(record.sourceOffset.offset) });
    }
    const tracked = this.inflight.get(record);
    if (!tracked) return;
    this.inflight.delete(record);
    this.tracker.committed(tracked);
    if (tracked.outstanding === 0) this.metrics.committed(tracked, tracked.db, tracked.end);
  }

  async commit(): Promise<void> {
    if (this.legacy) return this.legacy.commit();
    this.flushAcks();
    await this.spill?.afterCommit();
  }

  async stop(): Promise<void> {
    if (this.legacy && !this.stopped) {
      this.stopped = true;
      return this.legacy.stop();
    }
    if (this.stopped || !this.session) return;
    this.stopped = true;
    this.abort.abort();
    for (const job of this.jobs) await job.close().catch(() => {});
    await Promise.all(this.cleanups.values());
    await this.pushReceiver?.stop();
    const spill = this.spill;
    if (spill && !this.context.signal.aborted && !this.sessionFailed) {
      this.keepFollowing(spill);
      return;
    }
    await spill?.close();
    await this.session.stop();
    this.reportStatus();
  }

  // ---------- spill log ----------

  /**
   * This incarnation ended but the runtime will start another (e.g. Kafka is unavailable): the session keeps
   * following the master and spills into the log until the next incarnation (or the runtime's stop) releases it.
   */
  private keepFollowing(spill: SpillCoordinator): void {
    const key = `${this.context.connectorName}/${this.context.taskId}`;
    const release = async (): Promise<void> => {
      forgetFollower(key, release);
      this.context.signal.removeEventListener('abort', onAbort);
      await spill.close();
      await this.session.stop();
    };
    const onAbort = (): void => { void release(); };
    keepFollower(key, release);
    this.context.signal.addEventListener('abort', onAbort, { once: true });
    this.context.logger.info('task incarnation ended: its replication session keeps following the master (spill.enabled) until the next incarnation starts', { 'spill.after.ms': this.settings.spillAfterMs });
    spill.keep();
  }

  private spillStartInfo(): SpillStartInfo {
    const committed = new Map<string, BinlogPosition | null>();
    for (const { partition, offset } of this.context.offsets.all()) {
      if (partition.source_id !== this.settings.sourceId) continue;
      committed.set(`db${partition.db}`, isSnapshotOffset(offset) ? null : parseCommittedOffset(partition, offset));
    }
    return { committed, replayWithoutOffset: this.settings.snapshotMode === 'never', fullSyncAlways: this.settings.snapshotMode === 'always' };
  }

  private spillSource(): SpillSource {
    return {
      master: () => this.session.master,
      takeUnacked: () => {
        this.flushAcks();
        const items = [...this.unacked.values()].flatMap((q) => q.map((e) => e.received));
        this.unacked.clear();
        this.tracker = new AckTracker();
        return items;
      },
      pending: () => this.tracker.pending > 0 && !this.taking,
      take: (max, waitMs) => this.session.take(max, waitMs, this.context.signal),
      acknowledge: (db, generation, start, end, items) => this.session.acknowledge(db, generation, start, end, items),
    };
  }

  /** Logged items as records; they are acknowledged already, so only their commit (for trimming) is followed. */
  private async pollSpilled(spill: SpillCoordinator): Promise<SourceRecord[]> {
    const records: SourceRecord[] = [];
    for (const spilled of await spill.next(this.settings.pollMaxRecords)) this.spilledRecords(spilled, records);
    for (const r of records) if (r.filteredBy !== undefined) this.metrics.filtered(r.filteredBy);
    this.maybeReportStatus();
    return records;
  }

  private spilledRecords(s: SpilledItem, out: SourceRecord[]): void {
    this.buildRecords(s.db, s.item, s.end, s.replicationId, s.profile, out);
  }

  // ---------- start position ----------

  private startPoint(db: string, master: MasterInfo, log: Logger): StartPoint {
    const s = this.settings;
    const partition = sourcePartition(s.sourceId, dbIndexFromName(db));
    const committed = this.context.offsets.offset(partition);
    if (committed?.phase === 'snapshot') {
      const at = parseSnapshotPosition(committed);
      this.snapshotResume.set(db, committed);
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
        if (this.onHandshakeGap(gap)) return 'dump';
        throw gap;
      }
      const spilled = this.spill?.resumePoint(db, position);
      if (spilled) {
        log.info('resuming the master after the last item of the spill log (the items between the committed offset and it are replayed from the log)', { db, committed: formatPosition(position), position: formatPosition(spilled) });
        return spilled;
      }
      log.info('resuming from the committed offset', { db, position: formatPosition(position), logic_id: position.logicId });
      // A crash between the commit of snapshot-end and the deletion of its dump left the dump behind.
      const leftover = committed.snapshot_dump_uuid;
      if (typeof leftover === 'string' && /^[0-9a-f]{32}$/.test(leftover) && !this.lastJobs.has(db)) {
        this.cleanUp(db, async () => {
          const removed = await removeDownload(this.snapshotDir(), db, leftover);
          if (removed) log.info('downloaded dump deleted: its snapshot was committed to Kafka before the restart', { db, dump_uuid: leftover });
          return removed;
        });
      }
      return position;
    }
    const spilled = s.snapshotMode === 'never' ? this.spill?.resumePoint(db, undefined) : undefined;
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

  /**
   * A handshake gap. True = counted and reported here, and a full sync of that DB follows (resync); false = the
   * session fails with it and `onSessionFailure` reports it.
   */
  private onHandshakeGap(gap: ReplicationGapError): boolean {
    const resync = this.settings.snapshotOnGap === 'resync' || this.settings.snapshotMode === 'when_needed';
    if (!resync) return false;
    this.recordGap(gap);
    this.resyncs++;
    this.context.logger.warn(`binlog gap: full sync of the DB again (snapshot events, then the binlog from the new dump) ${docRef('forcedOffsets')}`, {
      db: gap.db, kind: gap.kind, 'snapshot.on.gap': this.settings.snapshotOnGap, 'snapshot.mode': this.settings.snapshotMode, resyncs: this.resyncs,
    });
    return true;
  }

  /** Counts a gap (once per distinct gap across task restarts) and puts it in status and the log. */
  private recordGap(error: ReplicationGapError): number {
    const name = this.context.connectorName;
    const seen = gapsSeen.get(name) ?? { gaps: new Set<string>(), reports: 0 };
    gapsSeen.set(name, seen);
    const known = seen.gaps.size;
    seen.gaps.add(`${error.db}/${error.kind}/${error.requested ? formatPosition(error.requested) : '-'}`);
    seen.reports++;
    if (seen.gaps.size > known) this.metrics.gap(error.db, error.kind);
    const count = seen.gaps.size;
    const policy = this.settings.snapshotOnGap;
    this.context.logger.error('binlog gap: incremental replication cannot continue', { db: error.db, kind: error.kind, gaps: count, 'snapshot.on.gap': policy, detail: error.message });
    this.context.reportStatus({
      gaps: count,
      gap_reports: seen.reports,
      last_gap: { db: error.db, kind: error.kind, message: error.message, requested: error.requested ?? null, master: error.master ?? null, policy },
    });
    return count;
  }

  // ---------- records and acks ----------

  private toRecords(received: ReceivedItem, out: SourceRecord[]): void {
    const master = this.session.master!;
    const { item, end } = received;
    const records = this.buildRecords(received.db, item, end, master.replicationId, master.profile, out);
    const tracked = this.tracker.track(received.db, received.generation, end, records.length);
    this.metrics.received(tracked, received.db, item.start, end, item.execTime);
    if (records.length === 0) this.metrics.committed(tracked, received.db, end);
    for (const record of records) this.inflight.set(record, tracked);
    if (this.spill) {
      let queue = this.unacked.get(received.db);
      if (!queue) this.unacked.set(received.db, (queue = []));
      queue.push({ received, tracked });
      this.spill.noteServed(received.db, end);
    }
  }

  /** The records of one binlog item (appended to `out` and returned). */
  private buildRecords(dbName: string, item: BinlogItem, end: ReceivedItem['end'], replicationId: string | null, profile: '4.0' | '3.5', out: SourceRecord[]): SourceRecord[] {
    const s = this.settings;
    const db = dbIndexFromName(dbName);
    const events = binlogItemToEvents(item, { db, sourceId: s.sourceId, host: s.host, port: s.port, replicationId, profile, end });
    const topic = s.streamMode === 'single' ? s.topicSingle : s.topicBinlog;
    const partition = sourcePartition(s.sourceId, db);
    return events.map((event, index) => {
      const offset = sourceOffset(end, item.logicId, item.termId, replicationId, events.length > 1 ? index : undefined);
      const record = eventRecord(event, { sourcePartition: partition, sourceOffset: offset, topic }, this.filter);
      out.push(record);
      return record;
    });
  }

  private flushAcks(): void {
    for (const range of this.tracker.drain()) {
      this.session.acknowledge(range.db, range.generation, range.start, range.end, range.items);
    }
    // The tracker drained each DB's prefix of items without outstanding records: so does the spill's copy.
    for (const queue of this.unacked.values()) {
      let done = 0;
      while (done < queue.length && queue[done]!.tracked.outstanding === 0) done++;
      if (done > 0) queue.splice(0, done);
    }
  }

  // ---------- failures and status ----------

  private onSessionFailure(error: Error): Error {
    this.sessionFailed = true;
    if (!(error instanceof ReplicationGapError)) return error;
    this.recordGap(error);
    this.reportStatus();
    const action = this.settings.snapshotOnGap === 'fail'
      ? 'snapshot.on.gap=fail: the task stops. Reset the connector\'s offsets (or use a new source.id) to start again'
      : 'the task stops; its restart resumes from the last committed offset and, if that position is unusable there, makes a full sync (snapshot.on.gap=resync)';
    return new ConnectError(extendMessage(error.message, `. ${action}`), { code: error.code, stage: 'poll', cause: error });
  }

  private maybeReportStatus(): void {
    const now = Date.now();
    if (now - this.lastStatusAt < STATUS_EVERY_MS) return;
    this.lastStatusAt = now;
    this.reportStatus();
  }

  private reportStatus(): void {
    const master = this.session.master;
    if (master) this.metrics.protocol('pb', master.profile);
    this.metrics.sample({
      msSinceLastAck: this.session.msSinceLastAck(),
      itemsAwaitingCommit: this.tracker.pending,
      reconnects: this.session.stats.reconnects,
      snapshots: Object.fromEntries([...this.lastJobs].map(([db, job]) => [db, job.status()])),
    });
    const selection = this.selection;
    this.context.reportStatus({
      sync_protocol: selection ? { setting: selection.setting, protocol: 'pb', profile: master?.profile ?? selection.profile, reason: selection.reason } : null,
      replication: {
        streaming: this.session.isStreaming,
        generation: this.session.currentGeneration,
        master: { host: this.settings.host, repl_port: this.settings.replPort, replication_id: master?.replicationId ?? null, run_id: master?.runId ?? null, profile: master?.profile ?? null },
        dbs: this.session.positions(),
        items_awaiting_commit: this.tracker.pending,
        ...this.session.stats,
      },
      ...(this.spill ? { spill: this.spill.status() } : {}),
      snapshot: {
        full_syncs: this.fullSyncs,
        resyncs: this.resyncs,
        dbs: Object.fromEntries([...this.lastJobs].map(([db, job]) => [db, job.status()])),
        warnings: this.dumpWarnings,
        streams_not_in_dump: this.dumpWarnings.some((w) => /streams/.test(w)),
        transport: master ? (master.runId === null ? 'rsync-push' : 'rsync2') : null,
        ...(this.pushReceiver ? { rsync_push: this.pushReceiver.status() } : {}),
      },
      gaps: gapsSeen.get(this.context.connectorName)?.gaps.size ?? 0,
    });
  }
}
