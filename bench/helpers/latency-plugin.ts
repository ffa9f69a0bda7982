/**
 * Wraps a connector plugin so its tasks record, for each committed record whose Redis key is `lat-<µs>` (written
 * by bench/helpers/pika-master-process.ts), the time from that write to the Kafka commit (commitRecord runs right
 * after the transaction committed). Also keeps one committed record as a sample of the event JSON.
 */
import type { ConnectorPlugin, SourceConnector } from '../../runtime/api/connector.ts';
import type { SourceRecord, SourceTask } from '../../runtime/api/index.ts';

export interface LatencyLog {
  /** Milliseconds from the master's write to the commit. */
  samples: number[];
  sample: { key: string; value: string } | undefined;
}

const nowMicros = (): number => (performance.timeOrigin + performance.now()) * 1000;

export function latencyRecordingPlugin(inner: ConnectorPlugin, log: LatencyLog, name: string): ConnectorPlugin {
  return {
    names: [name],
    create: (): SourceConnector => {
      const connector = inner.create();
      const createTask = connector.createTask.bind(connector);
      connector.createTask = (): SourceTask => {
        const task = createTask();
        const commitRecord = task.commitRecord?.bind(task);
        task.commitRecord = (record: SourceRecord) => {
          const key = (record.value as { key?: unknown } | null)?.key;
          if (typeof key === 'string' && key.startsWith('lat-')) log.samples.push((nowMicros() - Number(key.slice(4))) / 1000);
          else if (!log.sample) log.sample = { key: String(record.key), value: JSON.stringify(record.value) };
          return commitRecord?.(record);
        };
        return task;
      };
      return connector;
    },
  };
}
