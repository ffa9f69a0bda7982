// Messages between the Kafka thread (ThreadedTask, a SourceTask proxy run by the ordinary TaskRunner) and the task
// thread (task-thread.ts, which runs the real task and its converters). The Kafka thread owns the producer, the
// transactions and the offsets; the task thread polls, converts and posts packed batches.
import type { OffsetEntry } from '../../storage/offset-store.ts';
import type { SourceOffset, SourcePartition } from '../../api/record.ts';
import type { TaskConfig } from '../../api/task.ts';
import type { ErrorHandlingSettings } from '../dead-letter.ts';
import { ConnectError, type Stage } from '../../api/errors.ts';

/** What the task thread needs to build the task and its converters (bundled plugins only). */
export interface ThreadedTaskSpec {
  connectorClass: string;
  /** The connector's props (given to its `start` before `createTask`). */
  connectorProps: Record<string, string>;
  keyConverter: { name: string; props: Record<string, string> };
  valueConverter: { name: string; props: Record<string, string> };
  errors: ErrorHandlingSettings;
  /** Batches posted but not yet taken by the Kafka thread; the task thread stops polling at this many. */
  maxBatchesInFlight: number;
}

export interface ThreadSetup {
  spec: ThreadedTaskSpec;
  connectorName: string;
  taskId: number;
  taskConfig: TaskConfig;
  /** The committed offsets the Kafka thread read at the start of this incarnation. */
  offsets: OffsetEntry[];
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** Present when the error was a ConnectError. */
  connect?: { code: string; retriable: boolean; stage?: Stage };
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One connector metric update; counters carry the increment, gauges the last value. */
export interface MetricUpdate {
  kind: 'gauge' | 'counter';
  name: string;
  help: string;
  labelNames: string[];
  labels?: Record<string, string>;
  value: number;
}

/** Runtime counters the task thread keeps (dead-letter routing happens there); increments since the last batch. */
export interface CounterDeltas {
  deadLetterRecords: number;
  recordsSkipped: number;
}

export type ThreadMessage =
  | { type: 'started' }
  | {
    type: 'batch';
    seq: number;
    buffer: ArrayBuffer;
    topics: string[];
    /** Source partitions of the batch, with the offset of the batch's last record in each. */
    partitions: Array<{ partition: SourcePartition; offset: SourceOffset }>;
    counters: CounterDeltas;
  }
  /** A poll returned nothing (lets the Kafka thread's poll return, so commits are told without waiting for data). */
  | { type: 'empty' }
  | { type: 'log'; level: LogLevel; msg: string; fields?: Record<string, unknown> }
  | { type: 'status'; status: Record<string, unknown> }
  | { type: 'metrics'; updates: MetricUpdate[] }
  | { type: 'failed'; error: SerializedError }
  | { type: 'stopped' };

export type MainMessage =
  /** The Kafka thread took a batch: one more may be posted. */
  | { type: 'credit' }
  /** Every batch up to and including `seq` is in a committed transaction. */
  | { type: 'committed'; seq: number }
  /** The task's signal aborts: finish the current poll, post nothing more. */
  | { type: 'abort' }
  /** Stop the task (after the last `committed`) and exit. */
  | { type: 'stop' };

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const out: SerializedError = { name: error.name, message: error.message };
  if (error.stack !== undefined) out.stack = error.stack;
  if (error instanceof ConnectError) {
    out.connect = { code: error.code, retriable: error.retriable };
    if (error.stage !== undefined) out.connect.stage = error.stage;
  }
  return out;
}

/** The error as the failure policy must see it: a ConnectError keeps its code, retriable flag and stage. */
export function reviveError(e: SerializedError): Error {
  const error = e.connect
    ? new ConnectError(e.message, { code: e.connect.code, retriable: e.connect.retriable, ...(e.connect.stage ? { stage: e.connect.stage } : {}) })
    : new Error(e.message);
  error.name = e.name;
  if (e.stack !== undefined) error.stack = `${e.stack}\n    (in the task thread)`;
  return error;
}

const THREAD_TYPES = new Set(['started', 'batch', 'empty', 'log', 'status', 'metrics', 'failed', 'stopped']);

/** Narrows what arrived from the task thread; anything else is a bug worth a clear error. */
export function asThreadMessage(data: unknown): ThreadMessage {
  if (typeof data === 'object' && data !== null && THREAD_TYPES.has((data as { type?: string }).type ?? '')) return data as ThreadMessage;
  throw new Error(`unexpected message from the task thread: ${JSON.stringify(data)?.slice(0, 200)}`);
}

const MAIN_TYPES = new Set(['credit', 'committed', 'abort', 'stop']);

export function asMainMessage(data: unknown): MainMessage {
  if (typeof data === 'object' && data !== null && MAIN_TYPES.has((data as { type?: string }).type ?? '')) return data as MainMessage;
  throw new Error(`unexpected message from the Kafka thread: ${JSON.stringify(data)?.slice(0, 200)}`);
}
