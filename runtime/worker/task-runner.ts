import type { Converter } from '../api/converter.ts';
import type { SourceRecord, SourceOffset } from '../api/record.ts';
import type { SourceTask, SourceTaskContext, TaskConfig, TaskMetricsFacade } from '../api/task.ts';
import { ConnectError } from '../api/errors.ts';
import type { KafkaClient, OutgoingRecord, TransactionalProducer } from '../kafka/types.ts';
import { ConnectorOffsets, loadConnectorOffsets, offsetRecords, type OffsetEntry } from '../storage/offset-store.ts';
import { partitionId } from '../storage/offset-codec.ts';
import { CheckpointFile } from '../storage/checkpoint-file.ts';
import type { RuntimeLogger } from '../util/logger.ts';
import { TransactionStateMachine } from './transaction-state.ts';
import type { TopicManager } from './topic-manager.ts';
import { TaskMetrics } from './task-metrics.ts';
import type { PauseGate } from './pause-gate.ts';

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
}

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

  constructor(private readonly settings: TaskRunnerSettings, private readonly deps: TaskRunnerDeps) {
    this.checkpoint = new CheckpointFile(settings.checkpointDir, settings.connectorName, settings.taskId);
    this.now = deps.now ?? Date.now;
    this.metrics = deps.metrics ?? new TaskMetrics();
  }

  get status(): Record<string, unknown> {
    return this.connectorStatus;
  }

  /** Runs until `signal` aborts (graceful: the open transaction is committed) or an error is thrown. */
  async run(signal: AbortSignal): Promise<void> {
    const { logger } = this.deps;
    try {
      await this.startIncarnation(signal);
      while (!signal.aborted) {
        if (this.deps.pauseGate?.paused) {
          if (this.txn.state === 'in_transaction') await this.commit();
          await this.deps.pauseGate.park(signal);
          continue;
        }
        const pollStart = this.now();
        const records = await this.task!.poll();
        this.metrics.recordPoll(records.length, this.now() - pollStart, this.now());
        if (records.length > 0) await this.write(records);
        if (this.boundaryReached()) await this.commit();
      }
      if (this.txn.state === 'in_transaction') await this.commit();
    } catch (error) {
      this.metrics.failures++;
      await this.abortQuietly(error);
      throw error;
    } finally {
      await this.shutdown();
      logger.debug('task incarnation ended');
    }
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

  private async write(records: SourceRecord[]): Promise<void> {
    const outgoing = await this.convert(records);
    await this.deps.topics.ensure(outgoing.map((r) => r.topic));
    if (this.txn.state === 'ready') {
      this.txn.transition('begin');
      await this.producer!.begin();
      this.transactionStartedAt = this.now();
    }
    for (const record of records) {
      this.pendingRecords.push(record);
      this.pendingOffsets.set(partitionId(record.sourcePartition), { partition: record.sourcePartition, offset: record.sourceOffset });
    }
    // With one transaction per poll, the offsets ride in the same produce request as the records (one round trip).
    if (this.settings.transactionBoundary === 'poll') {
      outgoing.push(...offsetRecords(this.settings.offsetsTopic, this.settings.connectorName, this.pendingOffsets.values()));
      this.offsetsSent = true;
    }
    await this.producer!.send(outgoing);
    this.metrics.recordWrite(records.length, this.now());
  }

  private async convert(records: SourceRecord[]): Promise<OutgoingRecord[]> {
    const { keyConverter, valueConverter } = this.deps;
    const out: OutgoingRecord[] = new Array(records.length);
    const receivedAt = this.now();
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      let key: Buffer | null;
      let value: Buffer | null;
      try {
        key = await keyConverter.fromConnectData(r.topic, r.key, r);
        value = await valueConverter.fromConnectData(r.topic, r.value, r);
      } catch (error) {
        throw new ConnectError(`Could not convert a record for topic ${r.topic} (source offset ${JSON.stringify(r.sourceOffset)}): ${(error as Error).message}`, { code: 'CONVERSION', stage: 'convert', retriable: (error as ConnectError).retriable ?? false, cause: error });
      }
      const rec: OutgoingRecord = { topic: r.topic, key, value, timestamp: r.timestamp ?? receivedAt };
      if (r.kafkaPartition !== undefined) rec.partition = r.kafkaPartition;
      if (r.partitionKey !== undefined) rec.partitionKey = typeof r.partitionKey === 'string' ? Buffer.from(r.partitionKey) : r.partitionKey;
      if (r.headers) rec.headers = r.headers;
      out[i] = rec;
    }
    return out;
  }

  private boundaryReached(): boolean {
    if (this.txn.state !== 'in_transaction') return false;
    if (this.settings.transactionBoundary === 'poll') return true;
    return this.now() - this.transactionStartedAt >= this.settings.transactionBoundaryIntervalMs;
  }

  /** Offsets are written inside the transaction, then it commits; only then does the task hear of it. */
  private async commit(): Promise<void> {
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
    for (const { partition, offset } of offsets) this.offsets.apply(partition, offset as SourceOffset);
    const committed = this.pendingRecords.splice(0);
    this.pendingOffsets.clear();
    await this.checkpoint.write(producer.transactionalId, this.offsets.all(), committed.length).catch((error: Error) => {
      this.deps.logger.warn('could not write the local checkpoint file (offsets are safe in Kafka)', { path: this.checkpoint.path, error: error.message });
    });
    const task = this.task!;
    if (task.commitRecord) for (const record of committed) await task.commitRecord(record);
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
