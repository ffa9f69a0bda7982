/** Counters of one task runner (all incarnations); exported as metrics and status. */
export class TaskMetrics {
  recordsWritten = 0;
  recordsCommitted = 0;
  transactionsCommitted = 0;
  transactionsAborted = 0;
  failures = 0;
}
