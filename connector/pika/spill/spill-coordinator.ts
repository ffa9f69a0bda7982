// The optional local spill log of the Pika source task (spill.enabled=true): it keeps the task following the master
// while Kafka is unavailable, so the master's binlog retention is not outrun, and replays what it kept into Kafka
// exactly once when Kafka is back.
//
// Contract (with the task):
// - Normal operation: items go master → poll → Kafka transaction → commit → ack (the ack tracker); the log is idle.
// - Spilling starts when no Kafka transaction committed for `afterMs` while items wait for their commit (or while
//   the task's incarnation has ended and its successor cannot start: `keep()`). From then on, every item not yet
//   acknowledged — first those already handed to the runtime (`SpillSource.takeUnacked`), then everything the
//   session delivers — is appended to the log, fsync'd, and only then acknowledged to the master. A full log takes
//   nothing: the pump waits, the master's sync window fills and the master stops sending (back-pressure; nothing is
//   dropped).
// - `next()` serves logged items in log order to poll, skipping every item at or before the last position handed
//   to the runtime for its DB (initially the committed offset), so an item reaches Kafka once whatever mix of live
//   and logged delivery it went through. Spilling stops once the log is served up to its end and Kafka committed
//   again within `afterMs`; then poll takes live items again.
// - Whole segments are deleted once every DB's items in them are at or before that DB's committed Kafka offset.
// - After a restart (or a crash at any point), the log decides each DB's resume point on the master: the last
//   logged item when it is after the committed offset (those items were acknowledged, the master may have purged
//   them); items at or before the committed offset are skipped. A crash before an append's fsync loses only items
//   never acknowledged (the master sends them again); after the fsync but before the ack, the resume point is
//   the log's end, so nothing is sent twice.
// - Logged items of a DB whose committed offset is not a binlog position (a snapshot was in progress, or nothing
//   was committed and a snapshot will be taken) are not replayed: the full sync that follows covers them. This is
//   logged with the number of items.
import type { Logger } from '../../../runtime/api/index.ts';
import { comparePositions, formatPosition, type BinlogPosition } from '../binlog/item.ts';
import type { ReceivedItem } from '../replication/session.ts';
import { SpillLog } from './segment-log.ts';
import { decodeSpilledItem, encodeSpilledItem, type SpilledItem } from './spill-record.ts';

export interface SpillSettings {
  dir: string;
  maxBytes: number;
  afterMs: number;
  /** Items taken from the session per append at most. */
  batchItems: number;
}

/** What the coordinator needs from the task. */
export interface SpillSource {
  /** Items of the session's master: replication id and profile to store with each item. */
  master(): { replicationId: string | null; profile: '4.0' | '3.5' } | undefined;
  /** Items awaiting their Kafka commit, whose acks become the log's: the task forgets them (in arrival order). */
  takeUnacked(): ReceivedItem[];
  /** Whether items wait for a Kafka commit (and poll is not inside the session's take: spilling may start). */
  pending(): boolean;
  take(max: number, waitMs: number): Promise<ReceivedItem[]>;
  acknowledge(db: string, generation: number, start: ReceivedItem['end'], end: ReceivedItem['end'], items: number): void;
}

export interface SpillStartInfo {
  /** Per DB: the committed binlog position, or null when the DB has an offset that is not one (snapshot phase). */
  committed: Map<string, BinlogPosition | null>;
  /** Whether a DB without any committed offset may start from logged items (snapshot.mode=never). */
  replayWithoutOffset: boolean;
  /** snapshot.mode=always: every DB gets a full sync; logged items are not replayed. */
  fullSyncAlways: boolean;
}

const WAIT_MS = 200;

export class SpillCoordinator {
  private served = new Map<string, BinlogPosition>();
  private readonly committed = new Map<string, BinlogPosition>();
  /** DBs whose logged items are not replayed (a full sync covers them). */
  private readonly dropped = new Set<string>();
  private readSeq: number;
  private spilling = false;
  private stopRequested = false;
  private pump: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastCommitAt = Date.now();
  private spilledTotal = 0;
  private replayedTotal = 0;
  private fullSince: number | undefined;
  private source: SpillSource | undefined;
  private closed = false;

  private constructor(private readonly log: SpillLog, private readonly settings: SpillSettings, private readonly logger: Logger) {
    this.readSeq = log.firstSeq;
  }

  static async open(settings: SpillSettings, start: SpillStartInfo, logger: Logger): Promise<SpillCoordinator> {
    const log = await SpillLog.open({ dir: settings.dir, maxBytes: settings.maxBytes, logger });
    const c = new SpillCoordinator(log, settings, logger);
    for (const [db, tail] of log.tails()) {
      const committed = start.committed.get(db);
      if (committed) c.served.set(db, committed);
      if (committed) c.committed.set(db, committed);
      const usable = start.fullSyncAlways ? false : committed !== undefined ? committed !== null : start.replayWithoutOffset;
      if (!usable) c.dropped.add(db);
      const ahead = usable && (!committed || comparePositions(tail, committed) > 0);
      logger.info(ahead ? 'spill log: items after the committed offset are replayed first; the master resumes after the last logged item'
        : usable ? 'spill log: every logged item is already in Kafka' : 'spill log: logged items are not replayed: a full sync of the DB follows and covers them', {
        db, committed: committed ? formatPosition(committed) : committed === null ? 'snapshot in progress' : 'none', last_logged: formatPosition(tail), dir: settings.dir,
      });
    }
    await c.trim();
    return c;
  }

  /** The master position to resume `db` from instead of `committed` (the log's last item after it), if any. */
  resumePoint(db: string, committed: BinlogPosition | undefined): BinlogPosition | undefined {
    if (this.dropped.has(db)) return undefined;
    const tail = this.log.tails().get(db);
    if (!tail || (committed && comparePositions(tail, committed) <= 0)) return undefined;
    return { filenum: tail.filenum, offset: tail.offset };
  }

  /** Starts watching for Kafka stalls; `source` is the task's session side. */
  attach(source: SpillSource): void {
    this.source = source;
    const every = Math.max(20, Math.min(1000, Math.floor(this.settings.afterMs / 4)));
    this.timer = setInterval(() => this.check(false), every);
    this.timer.unref?.();
  }

  /** The task's incarnation ended but a successor will start (Kafka trouble likely): spill even with nothing pending. */
  keep(): void {
    this.check(true);
    clearInterval(this.timer);
    const every = Math.max(20, Math.min(1000, Math.floor(this.settings.afterMs / 4)));
    this.timer = setInterval(() => this.check(true), every);
    this.timer.unref?.();
  }

  private check(keeping: boolean): void {
    if (this.spilling || this.closed || !this.source) return;
    if (Date.now() - this.lastCommitAt < this.settings.afterMs) return;
    if (!keeping && !this.source.pending()) return;
    this.startSpilling();
  }

  private startSpilling(): void {
    const source = this.source!;
    this.spilling = true;
    this.stopRequested = false;
    const first = source.takeUnacked();
    this.logger.warn('no Kafka commit for spill.after.ms: writing binlog items to the local spill log and acknowledging them to the master after each fsync', {
      'spill.after.ms': this.settings.afterMs, ms_since_last_commit: Date.now() - this.lastCommitAt, items_awaiting_commit: first.length, dir: this.settings.dir,
    });
    this.pump = this.runPump(source, first);
  }

  private async runPump(source: SpillSource, buffer: ReceivedItem[]): Promise<void> {
    try {
      while (!this.closed) {
        if (buffer.length === 0) {
          if (this.stopRequested) break;
          buffer = await source.take(this.settings.batchItems, WAIT_MS);
          // take() returns at once while the session stops: never spin on it.
          if (buffer.length === 0) {
            await new Promise((r) => setTimeout(r, 10));
            continue;
          }
        }
        const master = source.master();
        if (!master) throw new Error('spill log: items arrived before the master was known');
        const n = await this.log.append(buffer.map((r) => encodeSpilledItem({ db: r.db, item: r.item, end: r.end, replicationId: master.replicationId, profile: master.profile })));
        if (n === 0) {
          if (this.fullSince === undefined) {
            this.fullSince = Date.now();
            this.logger.warn('spill log full (spill.max.bytes): no more acks to the master until Kafka takes the logged items (back-pressure; nothing is dropped)', { bytes: this.log.bytes, 'spill.max.bytes': this.settings.maxBytes });
          }
          await new Promise((r) => setTimeout(r, WAIT_MS));
          continue;
        }
        if (this.fullSince !== undefined) {
          this.logger.info('spill log has room again: acknowledging the master again', { full_for_ms: Date.now() - this.fullSince });
          this.fullSince = undefined;
        }
        const written = buffer.slice(0, n);
        buffer = buffer.slice(n);
        this.spilledTotal += n;
        acknowledge(source, written);
      }
    } catch (error) {
      // The session failed (or the disk): the items not logged were not acknowledged; the live path meets the
      // session's failure, a disk error is reported here.
      if (!this.closed) this.logger.error('spill log: spilling stopped', { error: (error as Error).message });
    } finally {
      this.spilling = false;
    }
  }

  /**
   * Whether poll must serve from the log now. Ends spilling (waits for its last append) once the log is served to
   * its end and Kafka is committing again.
   */
  async replaying(): Promise<boolean> {
    const fromLog = await this.mustServeLog();
    if (this.servingLog && !fromLog) {
      this.logger.info('spill log served to its end: back to live binlog items', { spilled: this.spilledTotal, replayed: this.replayedTotal, records_kept_until_committed: this.log.records });
    }
    this.servingLog = fromLog;
    return fromLog;
  }

  private servingLog = false;

  private async mustServeLog(): Promise<boolean> {
    if (this.readSeq < this.log.nextSeq) return true;
    if (!this.spilling) return false;
    if (Date.now() - this.lastCommitAt >= this.settings.afterMs) return true;
    this.stopRequested = true;
    await this.pump;
    return this.readSeq < this.log.nextSeq;
  }

  /** Logged items not yet handed to the runtime, in log order (waits briefly when none is there yet). */
  async next(max: number): Promise<SpilledItem[]> {
    let stored = await this.log.read(this.readSeq, max);
    if (stored.length === 0) {
      await new Promise((r) => setTimeout(r, WAIT_MS));
      stored = await this.log.read(this.readSeq, max);
    }
    const out: SpilledItem[] = [];
    for (const entry of stored) {
      this.readSeq = entry.seq + 1;
      if (this.dropped.has(entry.db)) continue;
      const served = this.served.get(entry.db);
      if (served && comparePositions(entry.end, served) <= 0) continue;
      const item = decodeSpilledItem(entry, `${entry.seq} in ${this.settings.dir}`);
      this.served.set(entry.db, entry.end);
      out.push(item);
    }
    this.replayedTotal += out.length;
    return out;
  }

  /** A live item was handed to the runtime. */
  noteServed(db: string, end: BinlogPosition): void {
    this.served.set(db, end);
  }

  /** A record of `db` up to `end` is in a committed transaction. */
  noteCommitted(db: string, end: BinlogPosition): void {
    const known = this.committed.get(db);
    if (!known || comparePositions(end, known) > 0) this.committed.set(db, end);
  }

  /** A Kafka transaction committed: Kafka is available; segments it now fully holds are deleted. */
  async afterCommit(): Promise<void> {
    this.lastCommitAt = Date.now();
    await this.trim();
  }

  private async trim(): Promise<void> {
    if (this.log.records === 0) return;
    await this.log.trim((db, end) => {
      if (this.dropped.has(db)) return true;
      const committed = this.committed.get(db);
      return committed !== undefined && comparePositions(end, committed) <= 0;
    });
    if (this.readSeq < this.log.firstSeq) this.readSeq = this.log.firstSeq;
  }

  status(): Record<string, unknown> {
    return {
      spilling: this.spilling, records: this.log.records, bytes: this.log.bytes, max_bytes: this.settings.maxBytes,
      full: this.fullSince !== undefined, spilled: this.spilledTotal, replayed: this.replayedTotal, dir: this.settings.dir,
    };
  }

  /** Stops spilling (items taken but not logged stay unacknowledged: the master sends them again) and closes the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.pump;
    await this.log.close();
  }
}

/** Acks `items` (in arrival order) as ranges per DB and connection generation. */
function acknowledge(source: SpillSource, items: ReceivedItem[]): void {
  const runs = new Map<string, { generation: number; first: ReceivedItem; last: ReceivedItem; n: number }>();
  const flush = (db: string): void => {
    const run = runs.get(db);
    if (run) source.acknowledge(db, run.generation, run.first.end, run.last.end, run.n);
    runs.delete(db);
  };
  for (const item of items) {
    const run = runs.get(item.db);
    if (run && run.generation === item.generation) {
      run.last = item;
      run.n++;
      continue;
    }
    flush(item.db);
    runs.set(item.db, { generation: item.generation, first: item, last: item, n: 1 });
  }
  for (const db of [...runs.keys()]) flush(db);
}
