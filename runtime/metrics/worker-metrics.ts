import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { TaskMetricsFacade } from '../api/task.ts';
import type { TaskMetrics } from '../worker/task-metrics.ts';
import { ConnectorMetricsRegistry } from './connector-metrics.ts';

/** What a scrape reads from the worker: one entry per connector with its tasks. */
export interface ConnectorMetricsView {
  name: string;
  state: string;
  tasks: Array<{ id: number; state: string; restarts: number; metrics: TaskMetrics }>;
}

const TASK_STATES = ['unassigned', 'running', 'paused', 'failed', 'restarting', 'stopped'];
const CONNECTOR_STATES = ['unassigned', 'running', 'paused', 'failed', 'stopped'];

type TaskEntry = ConnectorMetricsView['tasks'][number] & { connector: string };

/**
 * The worker's Prometheus registry. Runtime metrics are read from the worker at scrape time, with Kafka Connect's
 * JMX names as the Prometheus JMX exporter spells them (`kafka_connect_source_task_metrics_source_record_poll_total`
 * for source-task-metrics / source-record-poll-total), labelled `connector` and `task`. Connector-defined metrics
 * come through `facade()`. Node.js process metrics are included with the prefix `pika_connect_`.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly connectorDefined: ConnectorMetricsRegistry;

  constructor(private readonly view: () => ConnectorMetricsView[], private readonly now: () => number = Date.now) {
    this.connectorDefined = new ConnectorMetricsRegistry(this.registry);
    collectDefaultMetrics({ register: this.registry, prefix: 'pika_connect_' });
    this.defineTaskMetrics();
    this.defineConnectorMetrics();
  }

  facade(connector: string, taskId: number): TaskMetricsFacade {
    return this.connectorDefined.facade(connector, taskId);
  }

  /** Drops the connector-defined series of a deleted connector (runtime series vanish on their own). */
  forgetConnector(connector: string): void {
    this.connectorDefined.forget(connector);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  private tasks(): TaskEntry[] {
    return this.view().flatMap((c) => c.tasks.map((t) => ({ ...t, connector: c.name })));
  }

  private defineTaskMetrics(): void {
    const labelNames = ['connector', 'task'] as const;
    const labels = (t: TaskEntry) => ({ connector: t.connector, task: String(t.id) });
    const registers = [this.registry];
    const tasks = () => this.tasks();
    const now = this.now;
    const counter = (name: string, help: string, value: (m: TaskMetrics, t: TaskEntry) => number): void => {
      new Counter({
        name, help, labelNames, registers,
        collect() {
          this.reset();
          for (const t of tasks()) this.inc(labels(t), value(t.metrics, t));
        },
      });
    };
    const gauge = (name: string, help: string, value: (m: TaskMetrics) => number): void => {
      new Gauge({
        name, help, labelNames, registers,
        collect() {
          this.reset();
          for (const t of tasks()) this.set(labels(t), value(t.metrics));
        },
      });
    };
    const src = 'kafka_connect_source_task_metrics_';
    const task = 'kafka_connect_connector_task_metrics_';
    counter(`${src}source_record_poll_total`, 'Records produced by the task\'s poll() (before conversion).', (m) => m.recordsPolled);
    gauge(`${src}source_record_poll_rate`, 'Records per second returned by poll(), over the last 30 s.', (m) => m.pollRate.perSecond(now()));
    counter(`${src}source_record_write_total`, 'Records sent to Kafka (inside transactions, committed or not).', (m) => m.recordsWritten);
    gauge(`${src}source_record_write_rate`, 'Records per second sent to Kafka, over the last 30 s.', (m) => m.writeRate.perSecond(now()));
    counter(`${src}source_record_committed_total`, 'Records in committed transactions.', (m) => m.recordsCommitted);
    gauge(`${src}poll_batch_avg_time_ms`, 'Average time of one poll() (ms), since the task started.', (m) => (m.polls ? m.pollTimeMsTotal / m.polls : 0));
    gauge(`${src}transaction_size_avg`, 'Average records per committed transaction.', (m) => (m.transactionsCommitted ? m.recordsCommitted / m.transactionsCommitted : 0));
    gauge(`${src}transaction_size_max`, 'Largest committed transaction (records).', (m) => m.transactionSizeMax);
    gauge(`${src}transaction_size_min`, 'Smallest committed transaction (records).', (m) => m.transactionSizeMin);
    counter(`${src}transaction_aborted_total`, 'Transactions aborted (their records are never visible to read_committed consumers).', (m) => m.transactionsAborted);
    counter(`${src}deadletterqueue_produce_requests_total`, 'Records written to the dead-letter topic instead of their own topic.', (m) => m.deadLetterRecords);
    counter(`${src}record_filtered_total`, 'Records dropped by connector filters; their offsets still advance.', (m) => m.recordsFiltered);
    counter(`${src}record_skipped_total`, 'Records skipped under errors.tolerance=all without a dead-letter topic (each one logged).', (m) => m.recordsSkipped);
    counter(`${task}offset_commit_completion_total`, 'Offset commits that completed (each with its transaction).', (m) => m.transactionsCommitted);
    counter(`${task}offset_commit_failure_total`, 'Offset commits (with their transaction) that failed.', (m) => m.offsetCommitFailures);
    gauge(`${task}offset_commit_success_percentage`, 'Share of offset commits that succeeded (0..1).', (m) => ratio(m.transactionsCommitted, m.offsetCommitFailures));
    gauge(`${task}offset_commit_failure_percentage`, 'Share of offset commits that failed (0..1).', (m) => ratio(m.offsetCommitFailures, m.transactionsCommitted));
    gauge(`${task}last_commit_timestamp_seconds`, 'Time of the last committed transaction (seconds since the epoch; 0 = none yet).', (m) => m.lastCommitAt / 1000);
    counter(`${task}failures_total`, 'Task incarnations that ended with an error.', (m) => m.failures);
    counter(`${task}restarts_total`, 'Automatic restarts of the task after a failure.', (_m, t) => t.restarts);
    new Gauge({
      name: `${task}status`, help: 'Task state: 1 for the current state, 0 for the others.', labelNames: ['connector', 'task', 'status'], registers,
      collect() {
        this.reset();
        for (const t of tasks()) for (const s of TASK_STATES) this.set({ ...labels(t), status: s }, t.state.toLowerCase() === s ? 1 : 0);
      },
    });
  }

  private defineConnectorMetrics(): void {
    const view = this.view;
    new Gauge({
      name: 'kafka_connect_connector_metrics_status', help: 'Connector state: 1 for the current state, 0 for the others.', labelNames: ['connector', 'status'], registers: [this.registry],
      collect() {
        this.reset();
        for (const c of view()) for (const s of CONNECTOR_STATES) this.set({ connector: c.name, status: s }, c.state.toLowerCase() === s ? 1 : 0);
      },
    });
    new Gauge({
      name: 'kafka_connect_worker_metrics_connector_count', help: 'Connectors on this worker.', registers: [this.registry],
      collect() { this.set(view().length); },
    });
    new Gauge({
      name: 'kafka_connect_worker_metrics_task_count', help: 'Tasks on this worker.', registers: [this.registry],
      collect() { this.set(view().reduce((n, c) => n + c.tasks.length, 0)); },
    });
  }
}

function ratio(part: number, other: number): number {
  return part + other === 0 ? 0 : part / (part + other);
}
