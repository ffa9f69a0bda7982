// The Pika source task: one replication session to the master (all DBs on one connection), binlog items turned
// into events, records handed to the runtime, and acks sent to the master only for items whose records are in a
// committed Kafka transaction (`commitRecord` → `commit`).
import { ConnectError, type Logger, type SourceRecord, type SourceTask, type SourceTaskContext, type TaskConfig } from '../../../runtime/api/index.ts';
import { binlogItemToEvents, dbIndexFromName } from '../events/binlog-events.ts';
import { eventKafkaKey, eventPartitionKey } from '../events/kafka-keys.ts';
import { formatPosition } from '../binlog/item.ts';
import { AckTracker, type TrackedItem } from '../replication/ack-tracker.ts';
import type { SessionClock, SessionTimings } from '../replication/clock.ts';
import { ReplicationGapError } from '../replication/errors.ts';
import { ReplicationSession, type MasterInfo, type ReceivedItem, type StartPoint } from '../replication/session.ts';
import { pikaSourceSettings, validatePikaSource, type PikaSourceSettings } from './config.ts';
import { parseCommittedOffset, sourceOffset, sourcePartition } from './offsets.ts';

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
}

export class PikaSourceTask implements SourceTask {
  private settings!: PikaSourceSettings;
  private context!: SourceTaskContext;
  private session!: ReplicationSession;
  private readonly tracker = new AckTracker();
  private readonly inflight = new Map<SourceRecord, TrackedItem>();
  private lastStatusAt = 0;
  private stopped = false;

  constructor(private readonly options: PikaSourceTaskOptions = {}) {}

  async start(config: TaskConfig, context: SourceTaskContext): Promise<void> {
    const issues = validatePikaSource(config);
    if (issues.length > 0) {
      throw new ConnectError(`invalid Pika source configuration: ${issues.map((i) => `${i.key}: ${i.message}`).join('; ')}`, { code: 'CONFIG', stage: 'config' });
    }
    this.settings = pikaSourceSettings(config);
    this.context = context;
    const s = this.settings;
    const log = context.logger;
    if (Number(config['tasks.max'] ?? '1') > 1) {
      log.info('tasks.max > 1 is ignored: a Pika master is read over one replication connection, so this connector runs one task', { 'tasks.max': config['tasks.max'] });
    }
    this.session = new ReplicationSession({
      host: s.host,
      port: s.replPort,
      password: s.password,
      identity: s.replicaIp !== undefined && s.replicaPort !== undefined ? { ip: s.replicaIp, port: s.replicaPort } : undefined,
      dbs: s.dbs,
      start: (db, master) => this.startPoint(db, master, log),
      logger: log,
      timings: { pingIntervalMs: s.pingIntervalMs, silenceTimeoutMs: s.silenceTimeoutMs, ...this.options.timings },
      clock: this.options.clock,
    });
    this.session.start();
  }

  async poll(): Promise<SourceRecord[]> {
    let items: ReceivedItem[];
    try {
      items = await this.session.take(this.settings.pollMaxRecords, POLL_WAIT_MS, this.context.signal);
    } catch (error) {
      throw this.onSessionFailure(error as Error);
    }
    const records: SourceRecord[] = [];
    for (const received of items) this.toRecords(received, records);
    if (records.length < items.length) this.flushAcks(); // items without records may be ackable right away
    this.maybeReportStatus();
    return records;
  }

  commitRecord(record: SourceRecord): void {
    const tracked = this.inflight.get(record);
    if (!tracked) return;
    this.inflight.delete(record);
    this.tracker.committed(tracked);
  }

  commit(): void {
    this.flushAcks();
  }

  async stop(): Promise<void> {
    if (this.stopped || !this.session) return;
    this.stopped = true;
    await this.session.stop();
    this.reportStatus();
  }

  // ---------- start position ----------

  private startPoint(db: string, master: MasterInfo, log: Logger): StartPoint {
    const s = this.settings;
    const partition = sourcePartition(s.sourceId, dbIndexFromName(db));
    const committed = this.context.offsets.offset(partition);
    if (committed) {
      const position = parseCommittedOffset(partition, committed);
      if (position.replicationId !== null && master.replicationId !== null && position.replicationId !== master.replicationId) {
        throw new ReplicationGapError('replication-id-changed', db,
          `the committed offset belongs to replication id ${position.replicationId} but the master now has ${master.replicationId} (restored or replaced master)`,
          { requested: position });
      }
      log.info('resuming from the committed offset', { db, position: formatPosition(position), logic_id: position.logicId });
      return position;
    }
    if (s.snapshotMode === 'never') {
      log.warn('no committed offset: starting at the master\'s current binlog position (snapshot.mode=never); data written before is not captured', { db });
      return 'current';
    }
    throw new ConnectError(
      `${db}: no committed offset and snapshot.mode=${s.snapshotMode} needs a full sync, which is not yet available in this version; set snapshot.mode=never to start at the master's current binlog position without the existing data`,
      { code: 'PIKA_FULL_SYNC_UNAVAILABLE', stage: 'start' },
    );
  }

  // ---------- records and acks ----------

  private toRecords(received: ReceivedItem, out: SourceRecord[]): void {
    const s = this.settings;
    const master = this.session.master!;
    const db = dbIndexFromName(received.db);
    const { item, end } = received;
    const events = binlogItemToEvents(item, {
      db, sourceId: s.sourceId, host: s.host, port: s.port, replicationId: master.replicationId, profile: master.profile, end,
    });
    const tracked = this.tracker.track(received.db, received.generation, end, events.length);
    const topic = s.streamMode === 'single' ? s.topicSingle : s.topicBinlog;
    const partition = sourcePartition(s.sourceId, db);
    events.forEach((event, index) => {
      const record: SourceRecord = {
        sourcePartition: partition,
        sourceOffset: sourceOffset(end, item.logicId, item.termId, master.replicationId, events.length > 1 ? index : undefined),
        topic,
        key: eventKafkaKey(event),
        value: event,
        partitionKey: eventPartitionKey(event),
      };
      this.inflight.set(record, tracked);
      out.push(record);
    });
  }

  private flushAcks(): void {
    for (const range of this.tracker.drain()) {
      this.session.acknowledge(range.db, range.generation, range.start, range.end, range.items);
    }
  }

  // ---------- failures and status ----------

  private onSessionFailure(error: Error): Error {
    if (!(error instanceof ReplicationGapError)) return error;
    const name = this.context.connectorName;
    const seen = gapsSeen.get(name) ?? { gaps: new Set<string>(), reports: 0 };
    gapsSeen.set(name, seen);
    seen.gaps.add(`${error.db}/${error.kind}/${error.requested ? formatPosition(error.requested) : '-'}`);
    seen.reports++;
    const count = seen.gaps.size;
    const policy = this.settings.snapshotOnGap;
    this.context.logger.error('binlog gap: incremental replication cannot continue', { db: error.db, kind: error.kind, gaps: count, 'snapshot.on.gap': policy, detail: error.message });
    this.context.reportStatus({
      gaps: count,
      gap_reports: seen.reports,
      last_gap: { db: error.db, kind: error.kind, message: error.message, requested: error.requested ?? null, master: error.master ?? null, policy },
    });
    this.reportStatus();
    const action = policy === 'fail'
      ? 'snapshot.on.gap=fail: the task stops. Reset the connector\'s offsets (or use a new source.id) to start again'
      : 'snapshot.on.gap=resync needs a full sync, which is not yet available in this version: the task stops. Reset the connector\'s offsets and use snapshot.mode=never to continue from the master\'s current position (changes in the gap are lost)';
    return new ConnectError(`${error.message}. ${action}`, { code: error.code, stage: 'poll', cause: error });
  }

  private maybeReportStatus(): void {
    const now = Date.now();
    if (now - this.lastStatusAt < STATUS_EVERY_MS) return;
    this.lastStatusAt = now;
    this.reportStatus();
  }

  private reportStatus(): void {
    const master = this.session.master;
    this.context.reportStatus({
      replication: {
        streaming: this.session.isStreaming,
        generation: this.session.currentGeneration,
        master: { host: this.settings.host, repl_port: this.settings.replPort, replication_id: master?.replicationId ?? null, run_id: master?.runId ?? null, profile: master?.profile ?? null },
        dbs: this.session.positions(),
        items_awaiting_commit: this.tracker.pending,
        ...this.session.stats,
      },
      gaps: gapsSeen.get(this.context.connectorName)?.gaps.size ?? 0,
    });
  }
}
