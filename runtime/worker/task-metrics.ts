import { WindowedRate } from '../metrics/windowed-rate.ts';

/** Counters of one task runner (all incarnations); exported as metrics and status. */
export class TaskMetrics {
  recordsWritten = 0;
  recordsCommitted = 0;
  transactionsCommitted = 0;
  transactionsAborted = 0;
  failures = 0;
  /** Records returned by poll() (before conversion). */
  recordsPolled = 0;
  polls = 0;
  pollTimeMsTotal = 0;
  /** Commits of offsets (with their transaction) that failed. */
  offsetCommitFailures = 0;
  transactionSizeMax = 0;
  /** 0 until the first transaction committed. */
  transactionSizeMin = 0;
  lastCommitAt = 0;
  /** Records sent to the dead-letter topic instead of their own. */
  deadLetterRecords = 0;
  /** Records dropped under errors.tolerance=all with no dead-letter topic (each logged). */
  recordsSkipped = 0;
  /** Records dropped by their connector's filters (offsets advanced, nothing written). */
  recordsFiltered = 0;
  readonly pollRate = new WindowedRate();
  readonly writeRate = new WindowedRate();

  recordPoll(records: number, elapsedMs: number, now: number): void {
    this.polls++;
    this.recordsPolled += records;
    this.pollTimeMsTotal += elapsedMs;
    this.pollRate.record(records, now);
  }

  recordWrite(records: number, now: number): void {
    this.recordsWritten += records;
    this.writeRate.record(records, now);
  }

  recordCommit(records: number, now: number): void {
    this.transactionsCommitted++;
    this.recordsCommitted += records;
    this.transactionSizeMax = Math.max(this.transactionSizeMax, records);
    this.transactionSizeMin = this.transactionSizeMin === 0 ? records : Math.min(this.transactionSizeMin, records);
    this.lastCommitAt = now;
  }
}
