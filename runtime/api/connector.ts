import type { SourceTask, TaskConfig } from './task.ts';

export interface ConfigIssue {
  key: string;
  message: string;
}

export interface ConnectorContext {
  readonly connectorName: string;
  /** Ask the runtime to rebuild task configs (e.g. upstream topology changed). */
  requestTaskReconfiguration(): void;
}

/**
 * A source connector: validates its configuration and splits the work into task configs.
 * The runtime instantiates tasks through `createTask`.
 */
export interface SourceConnector {
  /** Lists every problem of the given config; an empty list means valid. */
  validate(config: Record<string, string>): ConfigIssue[];
  start(config: Record<string, string>, context: ConnectorContext): Promise<void>;
  taskConfigs(maxTasks: number): TaskConfig[];
  createTask(): SourceTask;
  stop(): Promise<void>;
  /** Documented config keys this connector accepts (for unknown-key reporting). */
  configKeys(): string[];
  version(): string;
}

export interface ConnectorPlugin {
  /** Class names users may write in `connector.class` (full name first, then aliases). */
  names: string[];
  create(): SourceConnector;
}
