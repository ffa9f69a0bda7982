import type { SourceRecord } from '../../runtime/api/record.ts';
import type { SourceTask, SourceTaskContext, TaskConfig } from '../../runtime/api/task.ts';
import { syntheticSettings, type SyntheticSettings } from './config.ts';

interface Stream {
  id: number;
  next: number;
}

export class SyntheticTask implements SourceTask {
  private settings!: SyntheticSettings;
  private streams: Stream[] = [];
  private cursor = 0;
  private signal!: AbortSignal;
  private payload = '';
  private startedAt = 0;
  private emitted = 0;

  async start(config: TaskConfig, context: SourceTaskContext): Promise<void> {
    this.settings = syntheticSettings(config);
    this.signal = context.signal;
    this.payload = 'x'.repeat(this.settings.recordBytes);
    const ids = (config['synthetic.task.streams'] ?? '').split(',').filter(Boolean).map(Number);
    this.streams = ids.map((id) => {
      const committed = context.offsets.offset({ stream: id });
      return { id, next: committed ? Number(committed.seq) + 1 : 0 };
    });
    context.logger.info('synthetic task resuming', { streams: this.streams.map((s) => `${s.id}@${s.next}`).join(' ') });
    this.startedAt = Date.now();
  }

  async poll(): Promise<SourceRecord[]> {
    const { batchSize, rate, maxRecords } = this.settings;
    let budget = batchSize;
    if (rate > 0) {
      const allowed = Math.floor(((Date.now() - this.startedAt) / 1000) * rate) - this.emitted;
      if (allowed <= 0) {
        await pause(Math.min(100, Math.ceil(1000 / rate)), this.signal);
        return [];
      }
      budget = Math.min(budget, allowed);
    }
    const live = this.streams.filter((s) => maxRecords === 0 || s.next < maxRecords);
    if (live.length === 0) {
      await pause(200, this.signal);
      return [];
    }
    const records: SourceRecord[] = [];
    while (records.length < budget && live.length > 0) {
      const i = this.cursor++ % live.length;
      const stream = live[i]!;
      records.push(this.record(stream, stream.next++));
      if (maxRecords > 0 && stream.next >= maxRecords) live.splice(i, 1);
    }
    this.emitted += records.length;
    return records;
  }

  private record(stream: Stream, seq: number): SourceRecord {
    const { topic, keySpace } = this.settings;
    return {
      sourcePartition: { stream: stream.id },
      sourceOffset: { seq },
      topic,
      partitionKey: `stream-${stream.id}`,
      key: `key-${(stream.id * 7919 + seq) % keySpace}`,
      value: { stream: stream.id, seq, payload: this.payload },
    };
  }

  async stop(): Promise<void> {}
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
