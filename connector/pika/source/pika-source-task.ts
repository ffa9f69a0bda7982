// The Pika source task: one replication session to the master (all DBs on one connection), binlog items turned
// into events, records handed to the runtime, and acks sent to the master only for items whose records are in a
// committed Kafka transaction (`commitRecord` → `commit`). A legacy master (2.x/3.0) is served by LegacySourceTask;
// everything else here is the PB path: where each DB starts (start-point.ts), its binlog records and acks
// (binlog-records.ts), full syncs (snapshot-phase.ts), gaps (gap-policy.ts), status (pb-task-status.ts).
//
// Spill log (spill.enabled=true, ../spill/spill-coordinator.ts): when Kafka stops committing, items are logged
// locally and acknowledged after the fsync; poll serves logged items before live ones; a failed incarnation keeps
// its session following the master into the log until the next incarnation starts (../spill/kept-followers.ts).
import { join } from 'node:path';
import { ConnectError, RetriableError, type Logger, type SourceRecord, type SourceTask, type SourceTaskContext, type TaskConfig } from '../../../runtime/api/index.ts';
import { isSnapshotOffset } from '../snapshot/index.ts';
import { PikaProtocolError } from '../protocol/errors.ts';
import type { SessionClock, SessionTimings } from '../replication/clock.ts';
import { ReplicationSession, type ReceivedItem } from '../replication/session.ts';
import { pikaSourceSettings, validatePikaSource, type PikaSourceSettings } from './config.ts';
import { buildFilterDecider, type EventFilterDecider } from '../filters/index.ts';
import { PikaSourceMetrics } from './metrics.ts';
import { selectSyncProtocol, type ProtocolSelection } from './protocol-selection.ts';
import { LegacySourceTask } from './legacy-source-task.ts';
import type { LegacyTimings } from '../legacy/legacy-session.ts';
import { SpillCoordinator, type SpillSource } from '../spill/spill-coordinator.ts';
import { forgetFollower, keepFollower, takeFollower, type KeptFollower } from '../spill/kept-followers.ts';
import { BinlogRecords } from './binlog-records.ts';
import { GapPolicy } from './gap-policy.ts';
import { reportPbStatus } from './pb-task-status.ts';
import { SnapshotPhase } from './snapshot-phase.ts';
import { spillStartInfo, startPoint } from './start-point.ts';

const POLL_WAIT_MS = 500;
/**
 * How long a poll waits for items while earlier records await their commit. The master pushes nothing new until
 * those items are acked, and the acks go out only after this poll returns (the runtime tells the task of a commit
 * between polls): a long wait here would hold back both.
 */
const POLL_WAIT_WHILE_COMMITTING_MS = 5;
const STATUS_EVERY_MS = 1000;

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
  private records!: BinlogRecords;
  private snapshots!: SnapshotPhase;
  private gaps!: GapPolicy;
  private lastStatusAt = 0;
  private stopped = false;
  /** sync.protocol's outcome; a legacy master's task path is `legacy` (everything below is the PB path). */
  private selection: ProtocolSelection | undefined;
  private legacy: LegacySourceTask | undefined;
  private spill: SpillCoordinator | undefined;
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
    // The previous incarnation's follower stays on the master until this session streams (kept-followers.ts).
    const follower = s.spillEnabled ? takeFollower(`${context.connectorName}/${context.taskId}`) : undefined;
    let started = false;
    try {
      await follower?.stopSpilling();
      if (s.spillEnabled) {
        const dir = s.spillDir ?? join('data', 'pika-connect', context.connectorName, 'spill');
        this.spill = await SpillCoordinator.open({ dir, maxBytes: s.spillMaxBytes, afterMs: s.spillAfterMs, batchItems: s.pollMaxRecords }, spillStartInfo(s, context), log);
      }
      this.startSession();
      started = true;
    } finally {
      if (follower && started) leaveOnceStreaming(this.session, follower, log);
      else await follower?.leave();
    }
    this.spill?.attach(this.spillSource());
  }

  private startSession(): void {
    const s = this.settings;
    const context = this.context;
    const log = context.logger;
    this.gaps = new GapPolicy(s, context, this.metrics);
    this.snapshots = new SnapshotPhase({
      settings: s, filter: this.filter, context, metrics: this.metrics,
      master: () => this.session.master,
      finishDump: (db, at) => this.session.finishDump(db, at),
    });
    this.records = new BinlogRecords(s, this.filter, this.metrics,
      (db, generation, start, end, items) => this.session.acknowledge(db, generation, start, end, items), this.spill);
    const onGap = this.gaps.onHandshakeGap.bind(this.gaps);
    this.session = new ReplicationSession({
      host: s.host,
      port: s.replPort,
      password: s.password,
      identity: s.replicaIp !== undefined && s.replicaPort !== undefined ? { ip: s.replicaIp, port: s.replicaPort } : undefined,
      dbs: s.dbs,
      start: (db, master) => startPoint(db, master, { settings: s, context, snapshots: this.snapshots, spill: this.spill, onGap }),
      beforeDbSync: (db, master) => this.snapshots.beforeDbSync(db, master),
      onDumpAccepted: (db) => this.snapshots.onDumpAccepted(db),
      onGap,
      logger: log,
      timings: { pingIntervalMs: s.pingIntervalMs, silenceTimeoutMs: s.silenceTimeoutMs, ...this.options.timings },
      clock: this.options.clock,
    });
    this.session.start();
  }

  async poll(): Promise<SourceRecord[]> {
    if (this.legacy) return this.legacy.poll();
    if (this.spill && await this.spill.replaying()) return this.pollSpilled(this.spill);
    let items: ReceivedItem[];
    const job = this.snapshots.head;
    try {
      this.taking = true;
      const waitMs = job ? 0 : this.records.pending > 0 ? POLL_WAIT_WHILE_COMMITTING_MS : POLL_WAIT_MS;
      items = await this.session.take(this.settings.pollMaxRecords, waitMs, this.context.signal);
    } catch (error) {
      this.sessionFailed = true;
      throw this.gaps.failure(damagedConnection(error as Error, this.session.master !== undefined), () => this.reportStatus());
    } finally {
      this.taking = false;
    }
    const records: SourceRecord[] = [];
    for (const received of items) this.records.received(received, this.session.master!, records);
    if (records.length < items.length) this.records.flushAcks(); // items without records may be ackable right away
    if (job) await this.snapshots.poll(job, records, POLL_WAIT_MS);
    for (const r of records) if (r.filteredBy !== undefined) this.metrics.filtered(r.filteredBy);
    this.maybeReportStatus();
    return records;
  }

  commitRecord(record: SourceRecord): void {
    if (this.legacy) return this.legacy.commitRecord(record);
    this.snapshots.commitRecord(record);
    if (this.spill && !isSnapshotOffset(record.sourceOffset)) {
      this.spill.noteCommitted(`db${record.sourcePartition.db}`, { filenum: Number(record.sourceOffset.filenum), offset: Number(record.sourceOffset.offset) });
    }
    this.records.committed(record);
  }

  async commit(): Promise<void> {
    if (this.legacy) return this.legacy.commit();
    this.records.flushAcks();
    await this.spill?.afterCommit();
  }

  async stop(): Promise<void> {
    if (this.legacy && !this.stopped) {
      this.stopped = true;
      return this.legacy.stop();
    }
    if (this.stopped || !this.session) return;
    this.stopped = true;
    await this.snapshots.close();
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
    const session = this.session;
    const follower: KeptFollower = {
      stopSpilling: async () => {
        forgetFollower(key, follower);
        this.context.signal.removeEventListener('abort', onAbort);
        await spill.close();
      },
      leave: () => session.stop(),
    };
    const onAbort = (): void => { void follower.stopSpilling().then(follower.leave); };
    keepFollower(key, follower);
    this.context.signal.addEventListener('abort', onAbort, { once: true });
    this.context.logger.info('task incarnation ended: its replication session keeps following the master (spill.enabled) until the next incarnation starts', { 'spill.after.ms': this.settings.spillAfterMs });
    spill.keep();
  }

  private spillSource(): SpillSource {
    return {
      master: () => this.session.master,
      takeUnacked: () => this.records.takeUnacked(),
      pending: () => this.records.pending > 0 && !this.taking,
      take: (max, waitMs) => this.session.take(max, waitMs, this.context.signal),
      acknowledge: (db, generation, start, end, items) => this.session.acknowledge(db, generation, start, end, items),
    };
  }

  /** Logged items as records; they are acknowledged already, so only their commit (for trimming) is followed. */
  private async pollSpilled(spill: SpillCoordinator): Promise<SourceRecord[]> {
    const records: SourceRecord[] = [];
    for (const s of await spill.next(this.settings.pollMaxRecords)) this.records.build(s.db, s.item, s.end, s.replicationId, s.profile, records);
    for (const r of records) if (r.filteredBy !== undefined) this.metrics.filtered(r.filteredBy);
    this.maybeReportStatus();
    return records;
  }

  // ---------- status ----------

  private maybeReportStatus(): void {
    const now = Date.now();
    if (now - this.lastStatusAt < STATUS_EVERY_MS) return;
    this.lastStatusAt = now;
    this.reportStatus();
  }

  private reportStatus(): void {
    reportPbStatus({
      settings: this.settings, context: this.context, metrics: this.metrics, selection: this.selection,
      session: this.session, snapshots: this.snapshots, spill: this.spill,
      itemsAwaitingCommit: this.records.pending, resyncs: this.gaps.resyncs, gaps: this.gaps.gaps,
    });
  }
}

/**
 * Bytes off the protocol from a master this session completed a MetaSync with: a damaged connection, which a restart
 * (a new connection) fixes. Before any handshake the same error means the port does not speak PB replication (a
 * protocol mismatch): it stays non-retriable.
 */
function damagedConnection(error: Error, handshook: boolean): Error {
  if (!(error instanceof PikaProtocolError) || !handshook || error.retriable) return error;
  return new RetriableError(error.message, { code: error.code, stage: 'poll', cause: error });
}

/** Longest the previous incarnation's session stays on the master waiting for the new one to stream. */
const HANDOVER_LIMIT_MS = 30_000;
/**
 * After the new session sent its first BinlogSync: time for the master to have handled it (it arrives on another
 * connection than the old session's RemoveSlaveNode, so their order at the master is not given).
 */
const HANDOVER_SETTLE_MS = 1_000;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref?.());

/**
 * The old session leaves once the new one streams (the master's purge veto then covers the new session's position),
 * the new one failed, or HANDOVER_LIMIT_MS passed, whichever comes first.
 */
function leaveOnceStreaming(session: ReplicationSession, follower: KeptFollower, log: Logger): void {
  void Promise.race([session.ready().then(() => delay(HANDOVER_SETTLE_MS)), delay(HANDOVER_LIMIT_MS)])
    .catch(() => undefined)
    .then(() => follower.leave())
    .catch((error: Error) => log.warn('the previous replication session did not leave the master cleanly', { error: error.message }));
}
