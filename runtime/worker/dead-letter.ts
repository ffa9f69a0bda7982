import type { SourceRecord } from '../api/record.ts';
import { ConnectError, type Stage } from '../api/errors.ts';
import { docRef } from '../api/doc-ref.ts';
import type { OutgoingRecord } from '../kafka/types.ts';
import type { Logger } from '../api/task.ts';
import type { TaskMetrics } from './task-metrics.ts';
import { jsonBytes } from '../converters/json.ts';

export interface ErrorHandlingSettings {
  /** `none`: a bad record fails the task; `all`: it goes to the dead-letter topic (or is skipped, logged, counted). */
  tolerance: 'none' | 'all';
  deadLetterTopic?: string;
  /** Also write the stack trace and the failed record's coordinates as headers. */
  contextHeaders: boolean;
  /** Log every tolerated error (it is always counted). */
  logErrors: boolean;
  /** Largest key + value a record may have (from `max.request.size`). */
  maxRecordBytes: number;
}

/** Header names as Kafka Connect's DeadLetterQueueReporter writes them, plus the reason in words. */
const H = {
  reason: '__connect.errors.reason',
  stage: '__connect.errors.stage',
  topic: '__connect.errors.topic',
  connector: '__connect.errors.connector.name',
  task: '__connect.errors.task.id',
  exceptionClass: '__connect.errors.exception.class.name',
  message: '__connect.errors.exception.message',
  stacktrace: '__connect.errors.exception.stacktrace',
  sourceOffset: '__connect.errors.source.offset',
} as const;

/**
 * Decides what happens to a record that cannot be written as is: unconvertible, too large, or marked by its connector
 * for the dead-letter topic. The answer replaces the record in the same transaction as the offset advance, so a
 * record is either in its topic, in the dead-letter topic, or (tolerance=all without a DLQ) skipped with a log line
 * and a count — never silently.
 */
export class DeadLetterRouter {
  constructor(
    private readonly settings: ErrorHandlingSettings,
    private readonly where: { connector: string; task: number },
    private readonly logger: Logger,
    private readonly metrics: TaskMetrics,
  ) {}

  /** The DLQ record to send instead, or undefined to skip; throws when the error is not tolerated. */
  route(record: SourceRecord, stage: Stage, reason: string, error?: unknown): OutgoingRecord | undefined {
    const requested = stage === 'poll';
    if (!requested && this.settings.tolerance === 'none') {
      throw new ConnectError(`${reason} (errors.tolerance=none; set errors.tolerance=all and errors.deadletterqueue.topic.name to route such records to a dead-letter topic)${stage === 'produce' ? ` ${docRef('sizeLimits')}` : ''}`, { code: 'RECORD_REJECTED', stage, cause: error });
    }
    const topic = this.settings.deadLetterTopic;
    if (!topic) {
      if (requested) {
        throw new ConnectError(`${reason}: the connector routes this record to the dead-letter topic, but errors.deadletterqueue.topic.name is not set`, { code: 'NO_DEAD_LETTER_TOPIC', stage });
      }
      this.metrics.recordsSkipped++;
      this.logger.warn('record skipped (errors.tolerance=all, no dead-letter topic)', { topic: record.topic, reason, source_offset: record.sourceOffset });
      return undefined;
    }
    this.metrics.deadLetterRecords++;
    if (this.settings.logErrors) this.logger.warn('record sent to the dead-letter topic', { topic: record.topic, dlq: topic, reason });
    return { topic, key: rawBytes(record.key), value: rawBytes(record.value), headers: this.headers(record, stage, reason, error), timestamp: record.timestamp ?? Date.now() };
  }

  /** Converted key + value over the size limit: the reason, else undefined. */
  oversize(key: Buffer | null, value: Buffer | null): string | undefined {
    const size = (key?.length ?? 0) + (value?.length ?? 0);
    return size > this.settings.maxRecordBytes ? `record of ${size} bytes exceeds the limit of ${this.settings.maxRecordBytes} bytes (max.request.size)` : undefined;
  }

  private headers(record: SourceRecord, stage: Stage, reason: string, error: unknown): Record<string, string> {
    const h: Record<string, string> = {
      [H.reason]: reason,
      [H.stage]: stage.toUpperCase(),
      [H.topic]: record.topic,
      [H.connector]: this.where.connector,
      [H.task]: String(this.where.task),
    };
    if (this.settings.contextHeaders) {
      h[H.sourceOffset] = JSON.stringify(record.sourceOffset);
      if (error instanceof Error) {
        h[H.exceptionClass] = error.name;
        h[H.message] = error.message;
        if (error.stack) h[H.stacktrace] = error.stack;
      }
    }
    return h;
  }
}

/** The record's own data as bytes, without the converter that may have failed on it. */
function rawBytes(data: unknown): Buffer | null {
  if (data === null || data === undefined) return null;
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data);
  try {
    return jsonBytes(data);
  } catch {
    return Buffer.from(String(data));
  }
}
