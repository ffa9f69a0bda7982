// The Kafka thread's side of task.thread.enable: a SourceTask that the ordinary TaskRunner runs (so transactions,
// offsets and the exactly-once order are exactly the inline path's), whose records arrive already converted from
// the task thread. Its keys and values are bytes (the runner's converters pass them through) and each record
// carries its batch's last offset for its source partition (the runner keeps only the last offset per partition
// of a transaction, and a transaction holds whole batches). The real task hears commitRecord/commit in the task
// thread once the runner tells this proxy that the transaction holding them committed.
import type { Worker } from 'node:worker_threads';
import type { SourceRecord } from '../../api/record.ts';
import type { SourceTask, SourceTaskContext, TaskConfig } from '../../api/task.ts';
import type { TaskMetrics } from '../task-metrics.ts';
import { unpackBatch } from './batch-codec.ts';
import { applyMetricUpdates } from './metrics-forwarder.ts';
import { asThreadMessage, reviveError, type MainMessage, type ThreadMessage, type ThreadSetup, type ThreadedTaskSpec } from './protocol.ts';
import { SKIPPED_BY_TOLERANCE } from './thread-loop.ts';
import { startTaskThread } from './thread-start.ts';

/** How long a stopping task thread may take to stop its task before it is terminated. */
const STOP_TIMEOUT_MS = 30_000;

type BatchMessage = Extract<ThreadMessage, { type: 'batch' }>;

export interface ThreadedTaskDeps {
  /** The supervisor's counters: dead-letter and skip counts happen in the task thread. */
  metrics: TaskMetrics;
  startThread?: (setup: ThreadSetup) => Worker;
}

export class ThreadedTask implements SourceTask {
  private worker: Worker | undefined;
  private context: SourceTaskContext | undefined;
  private readonly batches: Array<BatchMessage | 'empty'> = [];
  private failure: Error | undefined;
  /** The thread exited. */
  private stopped = false;
  private stopRequested = false;
  private waiter: (() => void) | undefined;
  /** Sizes of the batches handed to the runner, oldest first, with their sequence numbers. */
  private readonly taken: Array<{ seq: number; size: number }> = [];
  private confirmed = 0;
  /** Transactions the runner committed (see transactionCommitted). */
  private commits = 0;
  private stoppedPromise: Promise<void> | undefined;
  private onStopped: (() => void) | undefined;

  constructor(private readonly spec: ThreadedTaskSpec, private readonly deps: ThreadedTaskDeps) {}

  async start(config: TaskConfig, context: SourceTaskContext): Promise<void> {
    this.context = context;
    const setup: ThreadSetup = { spec: this.spec, connectorName: context.connectorName, taskId: context.taskId, taskConfig: config, offsets: context.offsets.all() };
    const worker = (this.deps.startThread ?? startTaskThread)(setup);
    this.worker = worker;
    // The thread says `stopped` once its task stopped; it may linger on open handles after that, so it is terminated.
    this.stoppedPromise = new Promise((resolve) => {
      worker.once('exit', () => resolve());
      this.onStopped = resolve;
    });
    let started = false;
    worker.on('message', (data: unknown) => {
      try {
        const message = asThreadMessage(data);
        if (message.type === 'started') started = true;
        this.onMessage(message);
      } catch (error) {
        this.fail(error as Error);
      }
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => {
      this.stopped = true;
      if (!this.failure && !started) this.fail(new Error(`the task thread exited (code ${code}) before its task started`));
      else if (!this.failure && !this.stopRequested) this.fail(new Error(`the task thread exited unexpectedly (code ${code})`));
      this.wake();
    });
    context.signal.addEventListener('abort', () => this.post({ type: 'abort' }), { once: true });
    while (!started) {
      if (this.failure) throw this.failure;
      await this.next();
    }
  }

  async poll(): Promise<SourceRecord[]> {
    const signal = this.context!.signal;
    const commits = this.commits;
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.batches.length > 0) return this.takeQueued();
      // A transaction committed while this poll waited: return, so the runner tells the thread at once (the task
      // acks upstream on commit, and upstream may be waiting for those acks before it sends more).
      if (signal.aborted || this.stopped || this.commits !== commits) return [];
      await this.next(signal);
    }
  }

  /** The runner's transaction committed (TaskRunnerDeps.onTransactionCommitted). */
  transactionCommitted(): void {
    this.commits++;
    this.wake();
  }

  /**
   * Every batch queued so far, in order, as one poll: the thread polls on while a transaction commits, so what it
   * posted meanwhile goes into the next transaction together (as the inline runner's poll alongside the commit).
   */
  private takeQueued(): SourceRecord[] {
    const out: SourceRecord[] = [];
    for (const item of this.batches.splice(0)) {
      if (item === 'empty') continue;
      const records = this.take(item);
      for (let i = 0; i < records.length; i++) out.push(records[i]!);
    }
    return out;
  }

  commitRecord(_record: SourceRecord): void {
    this.confirmed++;
  }

  commit(): void {
    let seq = -1;
    while (this.taken.length > 0 && this.confirmed >= this.taken[0]!.size) {
      const batch = this.taken.shift()!;
      this.confirmed -= batch.size;
      seq = batch.seq;
    }
    if (seq >= 0) this.post({ type: 'committed', seq });
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.post({ type: 'stop' });
    this.stopRequested = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS); });
    const late = await Promise.race([this.stoppedPromise!.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) this.context?.logger.warn('the task thread did not stop in time; terminating it', { timeout_ms: STOP_TIMEOUT_MS });
    await worker.terminate();
  }

  private take(batch: BatchMessage): SourceRecord[] {
    this.post({ type: 'credit' });
    const { metrics } = this.deps;
    metrics.deadLetterRecords += batch.counters.deadLetterRecords;
    // Skipped records reach the runner as dropped ones, which it counts as filtered.
    metrics.recordsSkipped += batch.counters.recordsSkipped;
    const { entries, partitionIndexes } = unpackBatch(batch.buffer, batch.topics);
    const records: SourceRecord[] = new Array(entries.length);
    let skipped = 0;
    for (let i = 0; i < entries.length; i++) {
      const { partition, offset } = batch.partitions[partitionIndexes[i]!]!;
      const e = entries[i]!;
      if (e.record === undefined) {
        if (e.droppedBy === SKIPPED_BY_TOLERANCE) skipped++;
        records[i] = { sourcePartition: partition, sourceOffset: offset, topic: '', key: null, value: null, filteredBy: e.droppedBy };
        continue;
      }
      const r = e.record;
      const record: SourceRecord = { sourcePartition: partition, sourceOffset: offset, topic: r.topic, key: r.key, value: r.value };
      if (r.timestamp !== undefined) record.timestamp = r.timestamp;
      if (r.partition !== undefined) record.kafkaPartition = r.partition;
      if (r.partitionKey !== undefined) record.partitionKey = r.partitionKey;
      if (r.headers) record.headers = r.headers;
      records[i] = record;
    }
    metrics.recordsFiltered -= skipped;
    this.taken.push({ seq: batch.seq, size: records.length });
    return records;
  }

  private onMessage(message: ThreadMessage): void {
    const context = this.context!;
    switch (message.type) {
      case 'batch': this.batches.push(message); break;
      case 'empty': this.batches.push('empty'); break;
      case 'log': context.logger[message.level](message.msg, message.fields); break;
      case 'status': context.reportStatus(message.status); break;
      case 'metrics': if (context.metrics) applyMetricUpdates(context.metrics, message.updates); break;
      case 'failed': this.fail(reviveError(message.error)); break;
      case 'stopped': this.onStopped?.(); break;
      case 'started': break;
    }
    this.wake();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  private post(message: MainMessage): void {
    if (!this.stopped) this.worker?.postMessage(message);
  }

  private wake(): void {
    const wake = this.waiter;
    this.waiter = undefined;
    wake?.();
  }

  private next(signal?: AbortSignal): Promise<void> {
    if (!signal) return new Promise((resolve) => { this.waiter = resolve; });
    return new Promise((resolve) => {
      const onAbort = (): void => this.wake();
      this.waiter = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
