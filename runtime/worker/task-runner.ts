import type { Converter } from '../api/converter.ts';
import type { SourceRecord, SourceOffset, SourcePartition } from '../api/record.ts';
import type { SourceTask, SourceTaskContext, TaskConfig, TaskMetricsFacade } from '../api/task.ts';
import type { KafkaClient, OutgoingRecord, TransactionalProducer } from '../kafka/types.ts';
import { ConnectorOffsets, loadConnectorOffsets, offsetRecords, type OffsetEntry } from '../storage/offset-store.ts';
import { partitionId } from '../storage/offset-codec.ts';
import { CheckpointFile } from '../storage/checkpoint-file.ts';
import type { RuntimeLogger } from '../util/logger.ts';
import { TransactionStateMachine } from './transaction-state.ts';
import type { TopicManager } from './topic-manager.ts';
import { TaskMetrics } from './task-metrics.ts';
import type { PauseGate } from './pause-gate.ts';
import { DeadLetterRouter, type ErrorHandlingSettings } from './dead-letter.ts';
import { convertRecords } from './record-conversion.ts';

/** What one poll returned, converted. */
interface Batch {
  records: SourceRecord[];
  outgoing: OutgoingRecord[];
}

/** Records converted between two turns of the event loop. */
const YIELD_EVERY = 200;

const EMPTY_BATCH: Batch = { records: [], outgoing: [] };

function distinctTopics(records: OutgoingRecord[]): string[] {
  const topics: string[] = [];
  let last: string | undefined;
  for (const r of records) {
    if (r.topic !== last && !topics.includes(r.topic)) topics.push(r.topic);
    last = r.topic;
  }
  return topics;
}

export interface TaskRunnerSettings {
  connectorName: string;
  taskId: number;
  taskConfig: TaskConfig;
  /** Stable per connector+task, so a restarted task fences its previous incarnation. */
  transactionalId: string;
  clientId: string;
  offsetsTopic: string;
  producerOverrides: Record<string, string>;
  transactionBoundary: 'poll' | 'interval';
  transactionBoundaryIntervalMs: number;
  checkpointDir: string;
  /** errors.tolerance, dead-letter topic, size limit; default: every bad record fails the task. */
  errors?: ErrorHandlingSettings;
}

const FAIL_ON_ERROR: ErrorHandlingSettings = { tolerance: 'none', contextHeaders: false, logErrors: false, maxRecordBytes: 1_048_576 - 512 };

export interface TaskRunnerDeps {
  client: KafkaClient;
  createTask: () => SourceTask;
  keyConverter: Converter;
  valueConverter: Converter;
  topics: TopicManager;
  logger: RuntimeLogger;
  now?: () => number;
  /** Shared by all incarnations of one task. */
  metrics?: TaskMetrics;
  /** Pause/resume (KC target state PAUSED): checked between polls. */
  pauseGate?: PauseGate;
  /** The task's own metrics (SourceTaskContext.metrics). */
  connectorMetrics?: TaskMetricsFacade;
  /** Called as soon as a transaction committed, before the task is told (which waits for the poll alongside). */
  onTransactionCommitted?: () => void;
}

/**
 * Runs one incarnation of a source task with exactly-once delivery:
 *   fence (init producer) → read committed offsets → start task → { poll → convert → send }* → write offsets → commit
 *   → tell the task.
 * Records and the source offsets they advance to are written in the same transaction, so a crash at any point
 * leaves Kafka with either both or neither. Any error aborts the open transaction and ends the incarnation; the
 * caller starts a fresh one, which re-reads the committed offsets.
 */
export class TaskRunner {
  readonly metrics: TaskMetrics;
  private readonly txn = new TransactionStateMachine();
  private producer: TransactionalProducer | undefined;
  private task: SourceTask | undefined;
  private offsets = new ConnectorOffsets();
  private readonly pendingRecords: SourceRecord[] = [];
  private readonly pendingOffsets = new Map<string, OffsetEntry>();
  private transactionStartedAt = 0;
  /** The pending offsets are already inside the open transaction. */
  private offsetsSent = false;
  private readonly checkpoint: CheckpointFile;
  private readonly now: () => number;
  private connectorStatus: Record<string, unknown> = {};
  private readonly deadLetters: DeadLetterRouter;

  constructor(private readonly settings: TaskRunnerSettings, private readonly deps: TaskRunnerDeps) {
    this.checkpoint = new CheckpointFile(settings.checkpointDir, settings.connectorName, settings.taskId);
    this.now = deps.now ?? Date.now;
    this.metrics = deps.metrics ?? new TaskMetrics();
    this.deadLetters = new DeadLetterRouter(settings.errors ?? FAIL_ON_ERROR, { connector: settings.connectorName, task: settings.taskId }, deps.logger, this.metrics);
  }

  get status(): Record<string, unknown> {
    return this.connectorStatus;
  }

  /**
   * Runs until `signal` aborts (graceful: what was polled is sent and committed) or an error is thrown.
   *
   * Pipelined: while one batch's send and commit are in flight, the next poll and its conversion run, so the task's
   * CPU work overlaps the broker's. The exactly-once invariant is unchanged: a batch's records and offsets go into
   * one transaction, and the task hears of them (`commitRecord`, `commit`) only after that transaction committed.
   * The task is never called concurrently: its callbacks run once both the commit and the overlapping poll are done.
   */
  async run(signal: AbortSignal): Promise<void> {
    const { logger } = this.deps;
    try {
      await this.startIncarnation(signal);
      let batch = await this.pollBatch();
      for (;;) {
        const stopping = signal.aborted;
        const pausing = !stopping && this.deps.pauseGate?.paused === true;
        const inflight = this.sendAndMaybeCommit(batch, stopping || pausing);
        if (stopping || pausing) {
          await this.notifyCommitted(await inflight);
          if (stopping) break;
          await this.deps.pauseGate!.park(signal);
          batch = signal.aborted ? EMPTY_BATCH : await this.pollBatch();
          continue;
        }
        const next = this.pollBatch();
        const [sent, polled] = await Promise.allSettled([inflight, next]);
        if (sent.status === 'rejected') throw sent.reason;
        await this.notifyCommitted(sent.value);
        if (polled.status === 'rejected') throw polled.reason;
        batch = polled.value;
      }
    } catch (error) {
      this.metrics.failures++;
      await this.abortQuietly(error);
      throw error;
    } finally {
      await this.shutdown();
      logger.debug('task incarnation ended');
    }
  }

  /** One poll and the conversion of its records (topics made sure to exist). */
  private async pollBatch(): Promise<Batch> {
    const pollStart = this.now();
    const records = await this.task!.poll();
    this.metrics.recordPoll(records.length, this.now() - pollStart, this.now());
    if (records.length === 0) return EMPTY_BATCH;
    const outgoing = await this.convert(records);
    await this.deps.topics.ensure(distinctTopics(outgoing));
    return { records, outgoing };
  }

  /** Sends the batch into the open transaction (begun if needed); commits at a boundary or when `force`d. */
  private async sendAndMaybeCommit(batch: Batch, force: boolean): Promise<SourceRecord[] | undefined> {
    if (batch.records.length > 0) await this.write(batch);
    if (this.txn.state === 'in_transaction' && (force || this.boundaryReached())) return this.commit();
    return undefined;
  }

  private async startIncarnation(signal: AbortSignal): Promise<void> {
    const { settings, deps } = this;
    this.producer = deps.client.producer({ transactionalId: settings.transactionalId, clientId: settings.clientId, overrides: settings.producerOverrides });
    await this.producer.connect();
    this.txn.transition('init');
    this.offsets = await loadConnectorOffsets(deps.client, settings.offsetsTopic, settings.connectorName);
    deps.logger.info('task starting from committed offsets', { partitions: this.offsets.all().length, transactional_id: settings.transactionalId });
    const context: SourceTaskContext = {
      connectorName: settings.connectorName,
      taskId: settings.taskId,
      offsets: this.offsets,
      logger: deps.logger,
      signal,
      reportStatus: (status) => { this.connectorStatus = { ...this.connectorStatus, ...status }; },
      ...(deps.connectorMetrics ? { metrics: deps.connectorMetrics } : {}),
    };
    this.task = deps.createTask();
    await this.task.start(settings.taskConfig, context);
  }

  private async write({ records, outgoing }: Batch): Promise<void> {
    if (this.txn.state === 'ready') {
      this.txn.transition('begin');
      await this.producer!.begin();
      this.transactionStartedAt = this.now();
    }
    let lastPartition: SourcePartition | undefined;
    let lastId = '';
    for (const record of records) {
      this.pendingRecords.push(record);
      // Records of one source partition usually share its object: its id is computed once per run of them.
      if (record.sourcePartition !== lastPartition) {
        lastPartition = record.sourcePartition;
        lastId = partitionId(lastPartition);
      }
      this.pendingOffsets.set(lastId, { partition: record.sourcePartition, offset: record.sourceOffset });
    }
    // With one transaction per poll, the offsets ride in the same produce request as the records (one round trip).
    const out = this.settings.transactionBoundary === 'poll'
      ? [...outgoing, ...offsetRecords(this.settings.offsetsTopic, this.settings.connectorName, this.pendingOffsets.values())]
      : outgoing;
    if (this.settings.transactionBoundary === 'poll') this.offsetsSent = true;
    if (out.length > 0) await this.producer!.send(out);
    this.metrics.recordWrite(records.length, this.now());
  }

  private async convert(records: SourceRecord[]): Promise<OutgoingRecord[]> {
    const { keyConverter, valueConverter } = this.deps;
    // Yields between slices so the producer's network work (the transaction in flight) runs alongside.
    return convertRecords(records, { keyConverter, valueConverter, deadLetters: this.deadLetters, metrics: this.metrics }, this.now(), { yieldEvery: YIELD_EVERY });
  }

  private boundaryReached(): boolean {
    if (this.txn.state !== 'in_transaction') return false;
    if (this.settings.transactionBoundary === 'poll') return true;
    return this.now() - this.transactionStartedAt >= this.settings.transactionBoundaryIntervalMs;
  }

  /** Offsets are written inside the transaction, then it commits; returns its records for `notifyCommitted`. */
  private async commit(): Promise<SourceRecord[]> {
    const producer = this.producer!;
    const offsets = [...this.pendingOffsets.values()];
    try {
      if (!this.offsetsSent) await producer.send(offsetRecords(this.settings.offsetsTopic, this.settings.connectorName, offsets));
      this.offsetsSent = false;
      this.txn.transition('commit');
      await producer.commit();
    } catch (error) {
      this.metrics.offsetCommitFailures++;
      throw error;
    }
    this.txn.transition('committed');
    this.metrics.recordCommit(this.pendingRecords.length, this.now());
    this.deps.onTransactionCommitted?.();
    for (const { partition, offset } of offsets) this.offsets.apply(partition, offset as SourceOffset);
    const committed = this.pendingRecords.splice(0);
    this.pendingOffsets.clear();
    await this.checkpoint.write(producer.transactionalId, this.offsets.all(), committed.length).catch((error: Error) => {
      this.deps.logger.warn('could not write the local checkpoint file (offsets are safe in Kafka)', { path: this.checkpoint.path, error: error.message });
    });
    return committed;
  }

  /** Tells the task which records are in a committed transaction (in poll order), then that it committed. */
  private async notifyCommitted(committed: SourceRecord[] | undefined): Promise<void> {
    if (!committed) return;
    const task = this.task!;
    if (task.commitRecord) {
      for (const record of committed) {
        const done = task.commitRecord(record);
        if (done instanceof Promise) await done;
      }
    }
    if (task.commit) await task.commit();
  }

  private async abortQuietly(cause: unknown): Promise<void> {
    const dropped = this.pendingRecords.length;
    this.pendingRecords.length = 0;
    this.offsetsSent = false;
    this.pendingOffsets.clear();
    if (!this.producer || (this.txn.state !== 'in_transaction' && this.txn.state !== 'committing')) return;
    this.metrics.transactionsAborted++;
    this.deps.logger.warn('aborting the open transaction', { dropped_records: dropped, cause: (cause as Error)?.message });
    try {
      this.txn.transition('fail');
      this.txn.transition('abort');
      await this.producer.abort();
      this.txn.transition('aborted');
    } catch (error) {
      // A fenced or broken producer cannot abort; its transaction is aborted by the coordinator when the next
      // incarnation initialises the same transactional id.
      this.deps.logger.debug('abort failed; the next incarnation fences this producer', { error: (error as Error).message });
    }
  }

  private async shutdown(): Promise<void> {
    const task = this.task;
    this.task = undefined;
    if (task) await task.stop().catch((error: Error) => this.deps.logger.warn('task stop failed', { error: error.message }));
    const producer = this.producer;
    this.producer = undefined;
    if (producer) await producer.disconnect().catch(() => {});
    if (this.txn.can('close')) this.txn.transition('close');
  }
}
