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
// has write2file0); always → forced full sync. A `wait` answer (full sync) ends the task with a clear error.
import { ConnectError, type SourceOffset, type SourceRecord, type SourceTaskContext } from '../../../runtime/api/index.ts';
import { formatPosition } from '../binlog/item.ts';
import { eventKafkaKey, eventPartitionKey } from '../events/kafka-keys.ts';
import type { EventFilterDecider } from '../filters/index.ts';
import { legacyFrameToEvents } from '../legacy/legacy-events.ts';
import { LegacySession, type LegacyQueuedItem, type LegacyStart, type LegacyTimings } from '../legacy/legacy-session.ts';
import type { PikaSourceSettings } from './config.ts';
import type { PikaSourceMetrics } from './metrics.ts';
import { parseCommittedOffset, sourceOffset, sourcePartition } from './offsets.ts';
import type { ProtocolSelection } from './protocol-selection.ts';

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
    });
  }

  start(): void {
    this.session.start();
  }

  private startPoint(): LegacyStart {
    const s = this.settings;
    const log = this.context.logger;
    const partition = sourcePartition(s.sourceId, 0);
    const committed = this.context.offsets.offset(partition);
    if (committed?.phase === 'snapshot') {
      throw new ConnectError(`the committed offset ${JSON.stringify(committed)} is inside a snapshot; a legacy master cannot continue a snapshot: reset the connector's offsets`, { code: 'PIKA_BAD_OFFSET', stage: 'offsets' });
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
    let items: LegacyQueuedItem[];
    try {
      items = await this.session.take(this.settings.pollMaxRecords, POLL_WAIT_MS, this.context.signal);
    } catch (error) {
      this.reportStatus();
      const e = error as ConnectError;
      throw new ConnectError(e.message, { code: e.code ?? 'PIKA_LEGACY', stage: 'poll', cause: e });
    }
    const records: SourceRecord[] = [];
    for (const item of items) this.toRecords(item, records);
    for (const r of records) if (r.filteredBy !== undefined) this.metrics.filtered(r.filteredBy);
    const now = Date.now();
    if (now - this.lastStatusAt >= STATUS_EVERY_MS) {
      this.lastStatusAt = now;
      this.reportStatus();
    }
    return records;
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
      const record: SourceRecord = { sourcePartition: partition, sourceOffset: offset, topic, key: eventKafkaKey(event), value: event, partitionKey: eventPartitionKey(event) };
      const decision = this.filter(event);
      if (!decision.pass) record.filteredBy = decision.reason;
      this.handles.set(record, handle);
      out.push(record);
    });
  }

  commitRecord(record: SourceRecord): void {
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
    await this.session.stop();
    this.reportStatus();
  }

  reportStatus(): void {
    const session = this.session;
    const resume = session.resumePoint;
    this.metrics.sample({ msSinceLastAck: {}, itemsAwaitingCommit: this.handles.size, reconnects: session.stats.reconnects, snapshots: {} });
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
        last_error: session.lastError,
        ...session.stats,
      },
    });
  }
}
