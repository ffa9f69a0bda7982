// The Pika source connector (connector.class=io.pika.connect.PikaSourceConnector, alias `pika`): streams a Pika
// master's binlog into Kafka, posing as a replica. One task: a master is read over one replication connection.
import { ConfigError, type ConfigIssue, type ConnectorContext, type ConnectorPlugin, type SourceConnector, type TaskConfig } from '../../../runtime/api/index.ts';
import { PIKA_SOURCE_KEYS, validatePikaSource } from './config.ts';
import { PikaSourceTask } from './pika-source-task.ts';

export class PikaSourceConnector implements SourceConnector {
  private config: Record<string, string> = {};

  validate(config: Record<string, string>): ConfigIssue[] {
    return validatePikaSource(config);
  }

  async start(config: Record<string, string>, _context?: ConnectorContext): Promise<void> {
    const issues = validatePikaSource(config);
    if (issues.length > 0) throw new ConfigError(issues.map((i) => `${i.key}: ${i.message}`), 'Invalid Pika source configuration');
    this.config = { ...config };
  }

  /** Always one task (tasks.max is passed on so the task can say it ignored a larger value). */
  taskConfigs(maxTasks: number): TaskConfig[] {
    return [{ ...this.config, 'tasks.max': String(maxTasks) }];
  }

  createTask(): PikaSourceTask {
    return new PikaSourceTask();
  }

  async stop(): Promise<void> {}

  configKeys(): string[] {
    return Object.keys(PIKA_SOURCE_KEYS);
  }

  version(): string {
    return '0.1.0';
  }
}

export const pikaSourceConnectorPlugin: ConnectorPlugin = {
  names: ['io.pika.connect.PikaSourceConnector', 'PikaSourceConnector', 'pika'],
  create: () => new PikaSourceConnector(),
};
