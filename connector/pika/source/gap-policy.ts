// What the PB path does with a binlog gap (purged binlog, changed replication id): snapshot.on.gap=resync (or
// snapshot.mode=when_needed) makes a full sync of the DB; otherwise the task fails with the gap, explained. Either way
// the gap is counted (once per distinct gap across task restarts), logged and put in status.
import { ConnectError, docRef, extendMessage, type SourceTaskContext } from '../../../runtime/api/index.ts';
import { formatPosition } from '../binlog/item.ts';
import { ReplicationGapError } from '../replication/errors.ts';
import type { PikaSourceSettings } from './config.ts';
import type { PikaSourceMetrics } from './metrics.ts';

/**
 * Distinct gaps seen per connector in this process. A failed task is restarted as a new instance and meets the same
 * gap again: that is one gap (`gaps`), reported once more (`gap_reports`).
 */
const gapsSeen = new Map<string, { gaps: Set<string>; reports: number }>();

export class GapPolicy {
  /** Full syncs started because of a gap (this task instance). */
  resyncs = 0;

  constructor(
    private readonly settings: PikaSourceSettings,
    private readonly context: SourceTaskContext,
    private readonly metrics: PikaSourceMetrics,
  ) {}

  /** Distinct gaps of this connector in this process. */
  get gaps(): number {
    return gapsSeen.get(this.context.connectorName)?.gaps.size ?? 0;
  }

  /**
   * A handshake gap. True = counted and reported here, and a full sync of that DB follows (resync); false = the
   * session fails with it and `failure` reports it.
   */
  onHandshakeGap(gap: ReplicationGapError): boolean {
    if (!this.resyncOnGap()) return false;
    this.record(gap);
    this.resyncs++;
    this.context.logger.warn(`binlog gap: full sync of the DB again (snapshot events, then the binlog from the new dump) ${docRef('forcedOffsets')}`, {
      db: gap.db, kind: gap.kind, 'snapshot.on.gap': this.settings.snapshotOnGap, 'snapshot.mode': this.settings.snapshotMode, resyncs: this.resyncs,
    });
    return true;
  }

  /**
   * The error the task fails with when its session failed with `error`: a gap is recorded (`reportStatus` runs after
   * that) and explained with what happens next; any other error is returned as it is.
   */
  failure(error: Error, reportStatus: () => void): Error {
    if (!(error instanceof ReplicationGapError)) return error;
    this.record(error);
    reportStatus();
    // snapshot.on.gap=fail: only the operator can decide (not retriable); resync: the restart does the full sync.
    const fail = !this.resyncOnGap();
    const action = fail
      ? 'snapshot.on.gap=fail: the task stops. Reset the connector\'s offsets (or use a new source.id) to start again'
      : 'the task stops; its restart resumes from the last committed offset and, if that position is unusable there, makes a full sync (snapshot.on.gap=resync)';
    return new ConnectError(extendMessage(error.message, `. ${action}`), { code: error.code, stage: 'poll', retriable: !fail, cause: error });
  }

  /** Whether a gap leads to a full sync of the DB (else the task fails with it). */
  private resyncOnGap(): boolean {
    return this.settings.snapshotOnGap === 'resync' || this.settings.snapshotMode === 'when_needed';
  }

  /** Counts a gap (once per distinct gap across task restarts) and puts it in status and the log. */
  private record(error: ReplicationGapError): number {
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
}
