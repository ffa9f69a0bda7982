// The task thread's side: builds the real task and its converters, polls, converts and posts packed batches to the
// Kafka thread (at most `maxBatchesInFlight` not yet taken), and tells the task of commits when the Kafka thread
// says the transaction holding its records committed. Poll, commitRecord and commit are never run concurrently.
import type { Converter } from '../../api/converter.ts';
import type { SourceOffset, SourcePartition, SourceRecord } from '../../api/record.ts';
import type { Logger, SourceTask, SourceTaskContext } from '../../api/task.ts';
import { ConfigError } from '../../api/errors.ts';
import type { OutgoingRecord } from '../../kafka/types.ts';
import type { PluginRegistry } from '../../plugins.ts';
import { ConnectorOffsets } from '../../storage/offset-store.ts';
import { partitionId } from '../../storage/offset-codec.ts';
import { DeadLetterRouter } from '../dead-letter.ts';
import { convertRecords } from '../record-conversion.ts';
import { TaskMetrics } from '../task-metrics.ts';
import { packBatch, type BatchEntry } from './batch-codec.ts';
import { MetricsForwarder } from './metrics-forwarder.ts';
import { serializeError, type LogLevel, type MainMessage, type ThreadMessage, type ThreadSetup } from './protocol.ts';

/** Why a record the task thread dropped under errors.tolerance=all (no dead-letter topic) wrote nothing. */
export const SKIPPED_BY_TOLERANCE = '\0skipped:errors.tolerance=all';

const METRICS_FLUSH_MS = 500;

export interface ThreadPort {
  post(message: ThreadMessage, transfer?: ArrayBuffer[]): void;
}

export class TaskThreadLoop {
  private credits: number;
  private committedSeq = -1;
  private nextSeq = 0;
  private readonly retained: Array<{ seq: number; records: SourceRecord[] }> = [];
  private readonly abort = new AbortController();
  private stopRequested = false;
  private waiter: (() => void) | undefined;
  private readonly metrics = new TaskMetrics();
  private readonly forwarder = new MetricsForwarder();
  private countersSent = { deadLetterRecords: 0, recordsSkipped: 0 };
  readonly logger: Logger;

  constructor(private readonly setup: ThreadSetup, private readonly port: ThreadPort, private readonly plugins: PluginRegistry) {
    this.credits = Math.max(1, setup.spec.maxBatchesInFlight);
    const log = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>): void => this.postLog(level, msg, fields);
    this.logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  }

  handle(message: MainMessage): void {
    switch (message.type) {
      case 'credit': this.credits++; break;
      case 'committed': this.committedSeq = Math.max(this.committedSeq, message.seq); break;
      case 'abort': this.abort.abort(); break;
      case 'stop': this.stopRequested = true; this.abort.abort(); break;
    }
    const wake = this.waiter;
    this.waiter = undefined;
    wake?.();
  }

  /** Runs until the Kafka thread says stop; a failure is posted (`failed`) and the task still stopped. */
  async run(): Promise<void> {
    let task: SourceTask | undefined;
    let stopConnector: (() => Promise<void>) | undefined;
    const flush = setInterval(() => this.flushMetrics(), METRICS_FLUSH_MS);
    try {
      const { spec } = this.setup;
      const plugin = this.plugins.connector(spec.connectorClass);
      if (!plugin) throw new ConfigError([`task.thread.enable=true: connector.class ${spec.connectorClass} is not a bundled connector (known: ${this.plugins.connectorNames().join(', ')}); run it with task.thread.enable=false`]);
      const connector = plugin.create();
      await connector.start(spec.connectorProps, { connectorName: this.setup.connectorName, requestTaskReconfiguration: () => this.logger.warn('task reconfiguration requested; restart the connector to apply it') });
      stopConnector = () => connector.stop();
      const keyConverter = await this.converter(true);
      const valueConverter = await this.converter(false);
      const deadLetters = new DeadLetterRouter(spec.errors, { connector: this.setup.connectorName, task: this.setup.taskId }, this.logger, this.metrics);
      task = connector.createTask();
      await task.start(this.setup.taskConfig, this.context());
      this.port.post({ type: 'started' });
      while (!this.abort.signal.aborted) {
        await this.deliverCommitted(task);
        if (this.credits <= 0) {
          await this.nextMessage();
          continue;
        }
        const records = await task.poll();
        if (this.abort.signal.aborted) break;
        if (records.length === 0) {
          this.port.post({ type: 'empty' });
          // A poll that answers at once must not starve the Kafka thread's messages (they arrive as macrotasks).
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        await this.postBatch(records, { keyConverter, valueConverter, deadLetters, metrics: this.metrics });
      }
      // The Kafka thread commits what it took, then says stop: the task hears of that commit first.
      while (!this.stopRequested) {
        await this.deliverCommitted(task);
        await this.nextMessage();
      }
      await this.deliverCommitted(task);
    } catch (error) {
      this.port.post({ type: 'failed', error: serializeError(error) });
      while (!this.stopRequested) await this.nextMessage();
    } finally {
      clearInterval(flush);
      if (task) await task.stop().catch((error: Error) => this.logger.warn('task stop failed', { error: error.message }));
      if (stopConnector) await stopConnector().catch(() => {});
      this.flushMetrics();
      this.port.post({ type: 'stopped' });
    }
  }

  private context(): SourceTaskContext {
    const offsets = new ConnectorOffsets();
    for (const { partition, offset } of this.setup.offsets) offsets.apply(partition, offset);
    return {
      connectorName: this.setup.connectorName,
      taskId: this.setup.taskId,
      offsets,
      logger: this.logger,
      signal: this.abort.signal,
      reportStatus: (status) => this.port.post({ type: 'status', status }),
      metrics: this.forwarder,
    };
  }

  private async converter(isKey: boolean): Promise<Converter> {
    const { name, props } = isKey ? this.setup.spec.keyConverter : this.setup.spec.valueConverter;
    const converter = this.plugins.converter(name, `${isKey ? 'key' : 'value'}.converter of ${this.setup.connectorName}`).create();
    await converter.configure(props, isKey);
    return converter;
  }

  private async postBatch(records: SourceRecord[], deps: Parameters<typeof convertRecords>[1]): Promise<void> {
    const perRecord: Array<OutgoingRecord | undefined> = [];
    await convertRecords(records, deps, Date.now(), { perRecord });
    const entries: BatchEntry[] = new Array(records.length);
    const indexes = new Uint32Array(records.length);
    const partitions: Array<{ partition: SourcePartition; offset: SourceOffset }> = [];
    const byId = new Map<string, number>();
    let lastPartition: SourcePartition | undefined;
    let lastIndex = 0;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (r.sourcePartition !== lastPartition) {
        lastPartition = r.sourcePartition;
        const id = partitionId(lastPartition);
        let index = byId.get(id);
        if (index === undefined) {
          index = partitions.length;
          byId.set(id, index);
          partitions.push({ partition: r.sourcePartition, offset: r.sourceOffset });
        }
        lastIndex = index;
      }
      partitions[lastIndex]!.offset = r.sourceOffset;
      indexes[i] = lastIndex;
      const out = perRecord[i];
      entries[i] = out ? { record: out } : { droppedBy: r.filteredBy ?? SKIPPED_BY_TOLERANCE };
    }
    const { buffer, topics } = packBatch(entries, indexes);
    const seq = this.nextSeq++;
    const counters = {
      deadLetterRecords: this.metrics.deadLetterRecords - this.countersSent.deadLetterRecords,
      recordsSkipped: this.metrics.recordsSkipped - this.countersSent.recordsSkipped,
    };
    this.countersSent = { deadLetterRecords: this.metrics.deadLetterRecords, recordsSkipped: this.metrics.recordsSkipped };
    this.retained.push({ seq, records });
    this.credits--;
    this.port.post({ type: 'batch', seq, buffer, topics, partitions, counters }, [buffer]);
  }

  /** commitRecord for every record of the committed batches (poll order), then commit once. */
  private async deliverCommitted(task: SourceTask): Promise<void> {
    let delivered = false;
    while (this.retained.length > 0 && this.retained[0]!.seq <= this.committedSeq) {
      const { records } = this.retained.shift()!;
      delivered = true;
      if (!task.commitRecord) continue;
      for (const record of records) {
        const done = task.commitRecord(record);
        if (done instanceof Promise) await done;
      }
    }
    if (delivered && task.commit) await task.commit();
  }

  private nextMessage(): Promise<void> {
    return new Promise((resolve) => { this.waiter = resolve; });
  }

  private flushMetrics(): void {
    const updates = this.forwarder.take();
    if (updates.length > 0) this.port.post({ type: 'metrics', updates });
  }

  private postLog(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    try {
      this.port.post({ type: 'log', level, msg, ...(fields ? { fields } : {}) });
    } catch {
      // Fields that cannot be cloned (functions, sockets…) go as their JSON text.
      const text = JSON.stringify(fields, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      this.port.post({ type: 'log', level, msg, fields: { fields: text } });
    }
  }
}
