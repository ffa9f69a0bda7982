// The PB path's binlog items as records, and their acks: an item is acknowledged to the master once every record it
// produced is in a committed Kafka transaction (AckTracker: only each DB's fully committed prefix). With a spill log the
// unacknowledged items are also kept in arrival order, so the log can take them (and their acks) over.
import type { SourcePartition, SourceRecord } from '../../../runtime/api/index.ts';
import type { BinlogItem } from '../binlog/item.ts';
import { binlogItemToKeyedEvents, dbIndexFromName } from '../events/binlog-events.ts';
import type { EventFilterDecider } from '../filters/index.ts';
import { AckTracker, type TrackedItem } from '../replication/ack-tracker.ts';
import type { MasterInfo, ReceivedItem } from '../replication/session.ts';
import type { SpillCoordinator } from '../spill/spill-coordinator.ts';
import type { PikaSourceSettings } from './config.ts';
import { eventRecord } from './event-record.ts';
import type { PikaSourceMetrics } from './metrics.ts';
import { sourceOffset, sourcePartition } from './offsets.ts';

type Acknowledge = (db: string, generation: number, start: ReceivedItem['end'], end: ReceivedItem['end'], items: number) => void;

export class BinlogRecords {
  /** Replaced when the spill log takes over the acks of the items it tracked. */
  private tracker = new AckTracker();
  private readonly inflight = new Map<SourceRecord, TrackedItem>();
  /** With a spill log: per DB the items not yet acknowledged, in arrival order (the log takes them over). */
  private readonly unacked = new Map<string, Array<{ received: ReceivedItem; tracked: TrackedItem }>>();
  private readonly partitions = new Map<string, { db: number; partition: SourcePartition }>();

  constructor(
    private readonly settings: PikaSourceSettings,
    private readonly filter: EventFilterDecider,
    private readonly metrics: PikaSourceMetrics,
    private readonly acknowledge: Acknowledge,
    private readonly spill: SpillCoordinator | undefined,
  ) {}

  /** Items whose records are not all committed yet. */
  get pending(): number {
    return this.tracker.pending;
  }

  /** The records of a live item (appended to `out`); they are tracked until committed. */
  received(received: ReceivedItem, master: MasterInfo, out: SourceRecord[]): void {
    const { item, end } = received;
    const records = this.build(received.db, item, end, master.replicationId, master.profile, out);
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
  build(dbName: string, item: BinlogItem, end: ReceivedItem['end'], replicationId: string | null, profile: '4.0' | '3.5', out: SourceRecord[]): SourceRecord[] {
    const s = this.settings;
    const { db, partition } = this.partitionOf(dbName);
    const events = binlogItemToKeyedEvents(item, { db, sourceId: s.sourceId, host: s.host, port: s.port, replicationId, profile, end });
    const topic = s.streamMode === 'single' ? s.topicSingle : s.topicBinlog;
    return events.map(({ event, key }, index) => {
      const offset = sourceOffset(end, item.logicId, item.termId, replicationId, events.length > 1 ? index : undefined);
      const record = eventRecord(event, { sourcePartition: partition, sourceOffset: offset, topic, ...(key ? { keyBytes: key } : {}) }, this.filter);
      out.push(record);
      return record;
    });
  }

  /** DB index and source partition of a DB name, made once per DB (the runtime keys its offset bookkeeping on them). */
  private partitionOf(dbName: string): { db: number; partition: SourcePartition } {
    let known = this.partitions.get(dbName);
    if (!known) {
      const db = dbIndexFromName(dbName);
      this.partitions.set(dbName, (known = { db, partition: sourcePartition(this.settings.sourceId, db) }));
    }
    return known;
  }

  /** `record` is in a committed transaction. */
  committed(record: SourceRecord): void {
    const tracked = this.inflight.get(record);
    if (!tracked) return;
    this.inflight.delete(record);
    this.tracker.committed(tracked);
    if (tracked.outstanding === 0) this.metrics.committed(tracked, tracked.db, tracked.end);
  }

  /** Acknowledges every fully committed prefix to the master. */
  flushAcks(): void {
    for (const range of this.tracker.drain()) {
      this.acknowledge(range.db, range.generation, range.start, range.end, range.items);
    }
    // The tracker drained each DB's prefix of items without outstanding records: so does the spill's copy.
    for (const queue of this.unacked.values()) {
      let done = 0;
      while (done < queue.length && queue[done]!.tracked.outstanding === 0) done++;
      if (done > 0) queue.splice(0, done);
    }
  }

  /** The spill log takes over every unacknowledged item (after acking what can be): they are forgotten here. */
  takeUnacked(): ReceivedItem[] {
    this.flushAcks();
    const items = [...this.unacked.values()].flatMap((q) => q.map((e) => e.received));
    this.unacked.clear();
    this.tracker = new AckTracker();
    return items;
  }
}
