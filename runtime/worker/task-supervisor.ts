import type { SourceTask, TaskConfig, TaskMetricsFacade } from '../api/task.ts';
import type { Converter } from '../api/converter.ts';
import type { KafkaClient } from '../kafka/types.ts';
import type { RuntimeLogger } from '../util/logger.ts';
import { backoffDelay, sleep } from '../util/backoff.ts';
import { TaskRunner, type TaskRunnerSettings } from './task-runner.ts';
import { failureAction } from './failure-policy.ts';
import { ConnectError } from '../api/errors.ts';
import { TaskMetrics } from './task-metrics.ts';
import { PauseGate } from './pause-gate.ts';
import type { TopicManager } from './topic-manager.ts';
import type { ThreadedTaskSpec } from './threaded-task/protocol.ts';
import { ThreadedTask } from './threaded-task/threaded-task.ts';
import { PreparedBytesConverter } from './threaded-task/prepared-converter.ts';

export type TaskState = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'FAILED' | 'RESTARTING' | 'STOPPED';

export interface TaskStatus {
  id: number;
  state: TaskState;
  trace?: string;
  restarts: number;
  connector: Record<string, unknown>;
}

export interface TaskSupervisorDeps {
  client: KafkaClient;
  createTask: () => SourceTask;
  createConverters: () => Promise<{ key: Converter; value: Converter }>;
  topics: TopicManager;
  logger: RuntimeLogger;
  restartBackoffMaxMs: number;
  connectorMetrics?: TaskMetricsFacade;
  /** task.thread.enable: the task and its converters run on a worker thread; this thread keeps the Kafka side. */
  thread?: ThreadedTaskSpec;
}

/**
 * Keeps one task running: each failure ends the incarnation (its transaction aborted). A retriable failure
 * (failure-policy.ts) starts a new incarnation after an exponential back-off from the offsets committed in Kafka; a
 * non-retriable one leaves the task FAILED, with its trace in status, until `restart()` (REST task restart). Other
 * tasks and connectors are unaffected.
 */
export class TaskSupervisor {
  readonly metrics = new TaskMetrics();
  private state: TaskState = 'UNASSIGNED';
  private trace: string | undefined;
  private restarts = 0;
  private runner: TaskRunner | undefined;
  private stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly gate = new PauseGate();

  constructor(private readonly settings: TaskRunnerSettings, private readonly deps: TaskSupervisorDeps) {}

  get taskConfig(): TaskConfig {
    return this.settings.taskConfig;
  }

  start(): void {
    this.loop ??= this.supervise();
  }

  /** The runner commits its open transaction and stops polling; status turns PAUSED once it has. */
  pause(): void {
    this.gate.pause();
  }

  resume(): void {
    this.gate.resume();
  }

  /** Ends the current incarnation (its open transaction committed) and starts a fresh one from committed offsets. */
  async restart(): Promise<void> {
    await this.stop();
    this.stopController = new AbortController();
    this.loop = undefined;
    this.trace = undefined;
    this.start();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    await this.loop;
    this.state = 'STOPPED';
  }

  status(): TaskStatus {
    const state = this.state === 'RUNNING' && this.gate.parked ? 'PAUSED' : this.state;
    return { id: this.settings.taskId, state, ...(this.trace ? { trace: this.trace } : {}), restarts: this.restarts, connector: this.runner?.status ?? {} };
  }

  private async supervise(): Promise<void> {
    const signal = this.stopController.signal;
    let consecutiveFailures = 0;
    while (!signal.aborted) {
      const thread = this.deps.thread;
      const { key, value } = thread ? { key: new PreparedBytesConverter(), value: new PreparedBytesConverter() } : await this.deps.createConverters();
      let threaded: ThreadedTask | undefined;
      this.runner = new TaskRunner(this.settings, {
        client: this.deps.client,
        createTask: thread ? () => (threaded = new ThreadedTask(thread, { metrics: this.metrics })) : this.deps.createTask,
        ...(thread ? { onTransactionCommitted: () => threaded?.transactionCommitted() } : {}),
        keyConverter: key,
        valueConverter: value,
        topics: this.deps.topics,
        logger: this.deps.logger,
        metrics: this.metrics,
        pauseGate: this.gate,
        ...(this.deps.connectorMetrics ? { connectorMetrics: this.deps.connectorMetrics } : {}),
      });
      this.state = 'RUNNING';
      const committedBefore = this.metrics.transactionsCommitted;
      try {
        await this.runner.run(signal);
        return;
      } catch (error) {
        if (this.metrics.transactionsCommitted > committedBefore) consecutiveFailures = 0;
        const delay = backoffDelay(consecutiveFailures++, 500, this.deps.restartBackoffMaxMs);
        this.state = signal.aborted ? 'STOPPED' : 'FAILED';
        this.trace = (error as Error)?.stack ?? String(error);
        if (!signal.aborted && failureAction(error) === 'stay-failed') {
          this.deps.logger.error(`task failed with a non-retriable error; it stays FAILED until restarted (fix the cause, then POST /connectors/${this.settings.connectorName}/tasks/${this.settings.taskId}/restart)`, {
            error: (error as Error).message, code: (error as ConnectError).code,
          });
          return;
        }
        this.restarts++;
        this.deps.logger.error('task failed; restarting from committed offsets', { error: (error as Error)?.message, restart_in_ms: delay, restarts: this.restarts });
        await sleep(delay, signal);
        if (!signal.aborted) this.state = 'RESTARTING';
      }
    }
  }
}

export type { TaskConfig };
