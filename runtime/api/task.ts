import type { SourceOffset, SourcePartition, SourceRecord } from './record.ts';

export type TaskConfig = Record<string, string>;

/** Read access to the committed offsets of this connector, as Kafka Connect's OffsetStorageReader. */
export interface OffsetStorageReader {
  offset(partition: SourcePartition): SourceOffset | undefined;
  /** Every committed partition of this connector with its offset. */
  all(): Array<{ partition: SourcePartition; offset: SourceOffset }>;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * Connector-defined metrics, exported in Prometheus format at the worker's `/metrics`. Every series is labelled
 * with `connector` and `task`; `labelNames` adds more. Names must match `[a-zA-Z_:][a-zA-Z0-9_:]*` and may be
 * declared by several tasks as long as type, help and labels agree. Counters end in `_total` by convention.
 */
export interface TaskMetricsFacade {
  gauge(name: string, help: string, labelNames?: readonly string[]): { set(value: number, labels?: Record<string, string>): void };
  counter(name: string, help: string, labelNames?: readonly string[]): { inc(by?: number, labels?: Record<string, string>): void };
}

export interface SourceTaskContext {
  readonly connectorName: string;
  readonly taskId: number;
  readonly offsets: OffsetStorageReader;
  readonly logger: Logger;
  /** Aborted when the runtime stops the task; long waits inside poll() should honour it. */
  readonly signal: AbortSignal;
  /** Connector-defined state shown in status (e.g. replication position, gaps). */
  reportStatus(status: Record<string, unknown>): void;
  /** Own metrics of the connector (lag, progress, reconnects…); always set by the runtime, optional for test fakes. */
  readonly metrics?: TaskMetricsFacade;
}

/**
 * A source task. Lifecycle: start → (poll → [commit])* → stop.
 *
 * Contract:
 * - `poll` may return an empty array when nothing is ready; it should wait (bounded, ~100–1000 ms) rather than spin.
 * - `commit` is called after a Kafka transaction holding records from earlier polls committed; `commitRecord` once per
 *   such record, in poll order, before `commit`. After a transaction failed, the runtime stops the task and starts a
 *   new instance from the committed offsets — records of the failed transaction are never committed.
 * - `poll`, `commit` and `commitRecord` are never called concurrently with each other.
 */
export interface SourceTask {
  start(config: TaskConfig, context: SourceTaskContext): Promise<void>;
  poll(): Promise<SourceRecord[]>;
  commitRecord?(record: SourceRecord): Promise<void> | void;
  commit?(): Promise<void> | void;
  stop(): Promise<void>;
}
