import type { SourceConnector } from '../api/connector.ts';
import type { Converter } from '../api/converter.ts';
import type { TaskConfig, TaskMetricsFacade } from '../api/task.ts';
import type { KafkaAdmin, KafkaClient } from '../kafka/types.ts';
import type { PluginRegistry } from '../plugins.ts';
import type { RuntimeLogger } from '../util/logger.ts';
import { backoffDelay, sleep } from '../util/backoff.ts';
import type { ConnectorConfig, WorkerConfig } from '../config/index.ts';
import { TaskSupervisor, type TaskStatus } from './task-supervisor.ts';
import { TopicManager } from './topic-manager.ts';
import type { ErrorHandlingSettings } from './dead-letter.ts';
import type { ThreadedTaskSpec } from './threaded-task/protocol.ts';

/**
 * task.thread.enable: converted batches a task thread may post ahead of the Kafka thread. The thread polls on while
 * a transaction commits and its polls then return small batches, which the next transaction takes together.
 */
const THREAD_BATCHES_IN_FLIGHT = 32;

export type ConnectorState = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'FAILED' | 'STOPPED';
/** What the operator asked for (Kafka Connect's target state). */
export type TargetState = 'STARTED' | 'PAUSED' | 'STOPPED';

export interface ConnectorStatus {
  name: string;
  connector: { state: ConnectorState; trace?: string };
  tasks: TaskStatus[];
  type: 'source';
}

/** Runs one connector and its tasks. A connector that fails to start is retried with back-off. */
export class ConnectorRunner {
  private connector: SourceConnector | undefined;
  private tasks: TaskSupervisor[] = [];
  private state: ConnectorState = 'UNASSIGNED';
  private trace: string | undefined;
  private stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly logger: RuntimeLogger;
  private target: TargetState = 'STARTED';

  constructor(
    readonly config: ConnectorConfig,
    private readonly worker: WorkerConfig,
    private readonly deps: {
      client: KafkaClient; plugins: PluginRegistry; logger: RuntimeLogger; admin: () => Promise<KafkaAdmin>;
      connectorMetrics?: (connector: string, taskId: number) => TaskMetricsFacade;
    },
  ) {
    this.logger = deps.logger.child({ connector: config.name });
  }

  get name(): string {
    return this.config.name;
  }

  get targetState(): TargetState {
    return this.target;
  }

  start(): void {
    if (this.target === 'STOPPED') return;
    this.loop ??= this.startWithRetry();
  }

  async stop(): Promise<void> {
    await this.halt();
  }

  /** Pauses every task (each commits its open transaction and stops polling); a STOPPED connector starts paused. */
  pause(): void {
    const wasStopped = this.target === 'STOPPED';
    this.target = 'PAUSED';
    if (wasStopped) this.start();
    else for (const t of this.tasks) t.pause();
  }

  /** From PAUSED: tasks poll again. From STOPPED: the connector and its tasks start again from committed offsets. */
  resume(): void {
    const wasStopped = this.target === 'STOPPED';
    this.target = 'STARTED';
    if (wasStopped) this.start();
    else for (const t of this.tasks) t.resume();
  }

  /** Kafka Connect 3.5's STOPPED: tasks shut down (open transactions committed), the config is kept. */
  async stopKeepingConfig(): Promise<void> {
    this.target = 'STOPPED';
    if (this.loop === undefined && this.connector === undefined) {
      this.state = 'STOPPED';
      return;
    }
    await this.halt();
    this.tasks = [];
    this.connector = undefined;
    this.trace = undefined;
  }

  /**
   * Restarts the connector and, with `includeTasks`, its tasks; with `onlyFailed`, only the FAILED ones.
   * A restart of the connector alone keeps the running tasks (as Kafka Connect).
   */
  async restart(opts: { includeTasks: boolean; onlyFailed: boolean }): Promise<void> {
    if (this.target === 'STOPPED') return;
    const connectorFailed = this.state === 'FAILED';
    if (opts.includeTasks && !opts.onlyFailed) {
      await this.halt();
      this.tasks = [];
      this.start();
      return;
    }
    if (!opts.onlyFailed || connectorFailed) {
      if (this.connector === undefined) {
        // Never started (still retrying): start over at once.
        await this.halt();
        this.start();
      } else {
        await this.connector.stop().catch((error: Error) => this.logger.warn('connector stop failed', { error: error.message }));
        try {
          await this.connector.start(this.config.props, this.connectorContext());
          this.state = 'RUNNING';
          this.trace = undefined;
        } catch (error) {
          // Shown in the status; the tasks keep running on their configs (as Kafka Connect).
          this.state = 'FAILED';
          this.trace = (error as Error)?.stack ?? String(error);
          this.logger.error('connector failed to restart', { error: (error as Error)?.message });
        }
      }
    }
    if (opts.includeTasks) {
      await Promise.all(this.tasks.filter((t) => t.status().state === 'FAILED').map((t) => t.restart()));
    }
  }

  /** Restarts one task from its committed offsets; false when there is no such task. */
  async restartTask(taskId: number): Promise<boolean> {
    const task = this.tasks[taskId];
    if (!task) return false;
    await task.restart();
    return true;
  }

  taskConfigs(): TaskConfig[] {
    return this.tasks.map((t) => t.taskConfig);
  }

  status(): ConnectorStatus {
    const state = this.state === 'RUNNING' && this.target === 'PAUSED' ? 'PAUSED' : this.state;
    return {
      name: this.config.name,
      connector: { state, ...(this.trace ? { trace: this.trace } : {}) },
      tasks: this.tasks.map((t) => t.status()),
      type: 'source',
    };
  }

  private async halt(): Promise<void> {
    this.stopController.abort();
    await this.loop;
    await Promise.all(this.tasks.map((t) => t.stop()));
    await this.connector?.stop().catch((error: Error) => this.logger.warn('connector stop failed', { error: error.message }));
    this.state = 'STOPPED';
    this.stopController = new AbortController();
    this.loop = undefined;
  }

  private connectorContext(): { connectorName: string; requestTaskReconfiguration: () => void } {
    return { connectorName: this.config.name, requestTaskReconfiguration: () => this.logger.warn('task reconfiguration requested; restart the connector to apply it') };
  }

  taskMetrics(): Array<{ id: number; metrics: TaskSupervisor['metrics'] }> {
    return this.tasks.map((t, id) => ({ id, metrics: t.metrics }));
  }

  private async startWithRetry(): Promise<void> {
    const signal = this.stopController.signal;
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        await this.startOnce();
        return;
      } catch (error) {
        this.state = 'FAILED';
        this.trace = (error as Error)?.stack ?? String(error);
        const delay = backoffDelay(attempt, 1000, this.worker.connectorRestartBackoffMaxMs);
        this.logger.error('connector failed to start; retrying', { error: (error as Error)?.message, retry_in_ms: delay });
        await sleep(delay, signal);
      }
    }
  }

  private async startOnce(): Promise<void> {
    const { config, worker, deps } = this;
    const plugin = deps.plugins.connector(config.connectorClass);
    if (!plugin) throw new Error(`connector.class ${config.connectorClass} is not installed; known: ${deps.plugins.connectorNames().join(', ')}`);
    const connector = plugin.create();
    await connector.start(config.props, this.connectorContext());
    this.connector = connector;
    const topics = new TopicManager(deps.admin, {
      enabled: config.topicCreationEnable,
      groups: config.topicCreationGroups,
    });
    const taskConfigs = connector.taskConfigs(config.tasksMax);
    const errors: ErrorHandlingSettings = {
      tolerance: config.errorsTolerance,
      ...(config.dlqTopic ? { deadLetterTopic: config.dlqTopic } : {}),
      contextHeaders: config.dlqContextHeaders,
      logErrors: config.errorsLogEnable,
      maxRecordBytes: maxRecordBytes({ ...worker.producerProps, ...config.producerOverrides }),
    };
    const thread: ThreadedTaskSpec | undefined = config.taskThreadEnable
      ? {
        connectorClass: config.connectorClass, connectorProps: config.props, errors, maxBatchesInFlight: THREAD_BATCHES_IN_FLIGHT,
        keyConverter: this.converterSpec(true), valueConverter: this.converterSpec(false),
      }
      : undefined;
    this.tasks = taskConfigs.map((taskConfig, taskId) => new TaskSupervisor({
      connectorName: config.name,
      taskId,
      taskConfig,
      transactionalId: `${worker.clientId}-${config.name}-${taskId}`,
      clientId: `${worker.clientId}-${config.name}-${taskId}`,
      offsetsTopic: worker.offsetStorageTopic,
      producerOverrides: { ...worker.producerProps, ...config.producerOverrides },
      transactionBoundary: config.transactionBoundary,
      transactionBoundaryIntervalMs: config.transactionBoundaryIntervalMs ?? worker.offsetFlushIntervalMs,
      checkpointDir: worker.offsetCheckpointDir,
      errors,
    }, {
      client: deps.client,
      createTask: () => connector.createTask(),
      createConverters: () => this.createConverters(),
      topics,
      logger: this.logger.child({ task: taskId }),
      restartBackoffMaxMs: worker.connectorRestartBackoffMaxMs,
      ...(deps.connectorMetrics ? { connectorMetrics: deps.connectorMetrics(config.name, taskId) } : {}),
      ...(thread ? { thread } : {}),
    }));
    this.state = 'RUNNING';
    this.trace = undefined;
    this.logger.info('connector started', { tasks: this.tasks.length, class: config.connectorClass });
    for (const task of this.tasks) {
      if (this.target === 'PAUSED') task.pause();
      task.start();
    }
  }

  /** The connector's own key/value converter and its settings, else the worker's. */
  private converterSpec(isKey: boolean): { name: string; props: Record<string, string> } {
    const { config, worker } = this;
    const ownName = isKey ? config.keyConverter : config.valueConverter;
    const name = ownName ?? (isKey ? worker.keyConverter : worker.valueConverter);
    const props = ownName ? (isKey ? config.keyConverterProps : config.valueConverterProps) : (isKey ? worker.keyConverterProps : worker.valueConverterProps);
    return { name, props };
  }

  private async createConverters(): Promise<{ key: Converter; value: Converter }> {
    const { config, deps } = this;
    const make = async (isKey: boolean): Promise<Converter> => {
      const { name, props } = this.converterSpec(isKey);
      const converter = deps.plugins.converter(name, `${isKey ? 'key' : 'value'}.converter of ${config.name}`).create();
      await converter.configure(props, isKey);
      return converter;
    };
    return { key: await make(true), value: await make(false) };
  }
}

/** Key + value bytes a record may carry: `max.request.size` (Kafka's default 1 MiB) less room for headers. */
function maxRecordBytes(producerProps: Record<string, string>): number {
  return Number(producerProps['max.request.size'] ?? 1_048_576) - 512;
}
