import type { ConnectorPlugin, SourceConnector, ConfigIssue } from '../../runtime/api/connector.ts';
import type { TaskConfig } from '../../runtime/api/task.ts';
import { SYNTHETIC_KEYS, validateSynthetic, syntheticSettings } from './config.ts';
import { SyntheticTask } from './synthetic-task.ts';

/**
 * A built-in source that emits numbered sequences: each stream `s` yields records `seq = 0, 1, 2, …` with
 * source partition `{stream: s}` and offset `{seq}`. Used to test and benchmark the runtime without Pika:
 * exactly-once means every `(stream, seq)` is in Kafka once, in order.
 */
export class SyntheticConnector implements SourceConnector {
  private config: Record<string, string> = {};

  validate(config: Record<string, string>): ConfigIssue[] {
    return validateSynthetic(config);
  }

  async start(config: Record<string, string>): Promise<void> {
    this.config = config;
  }

  taskConfigs(maxTasks: number): TaskConfig[] {
    const { streams } = syntheticSettings(this.config);
    const tasks = Math.max(1, Math.min(maxTasks, streams));
    return Array.from({ length: tasks }, (_, t) => ({
      ...this.config,
      'synthetic.task.streams': Array.from({ length: streams }, (_, s) => s).filter((s) => s % tasks === t).join(','),
    }));
  }

  createTask(): SyntheticTask {
    return new SyntheticTask();
  }

  async stop(): Promise<void> {}

  configKeys(): string[] {
    return Object.keys(SYNTHETIC_KEYS);
  }

  version(): string {
    return '1.0.0';
  }
}

export const syntheticConnectorPlugin: ConnectorPlugin = {
  names: ['io.pika.connect.SyntheticSourceConnector', 'SyntheticSourceConnector', 'synthetic'],
  create: () => new SyntheticConnector(),
};
