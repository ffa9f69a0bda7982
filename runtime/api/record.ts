/**
 * The unit a source task hands to the runtime. Mirrors Kafka Connect's SourceRecord.
 *
 * `sourcePartition` names the upstream stream (e.g. `{source_id, db}`); `sourceOffset` is the position
 * *after* this record in that stream. Both must be JSON-serialisable flat maps of primitives: they are
 * written to the offsets topic in Kafka Connect's layout.
 */
export type OffsetValue = string | number | boolean | null;
export type SourcePartition = Record<string, OffsetValue>;
export type SourceOffset = Record<string, OffsetValue>;

export type HeaderValue = string | Buffer;

export interface SourceRecord {
  sourcePartition: SourcePartition;
  sourceOffset: SourceOffset;
  topic: string;
  /** Kafka partition to write to; when omitted the runtime's partitioner decides (by `partitionKey` or key). */
  kafkaPartition?: number;
  /**
   * Bytes that choose the partition when `kafkaPartition` is not set. Lets a connector keep all events of one
   * upstream entity together even when the message key carries more (e.g. a data type).
   */
  partitionKey?: Buffer | string;
  key: unknown;
  value: unknown;
  headers?: Record<string, HeaderValue>;
  /** Milliseconds since the epoch; defaults to the time the runtime received the record. */
  timestamp?: number;
  /**
   * Set by a connector that cannot deliver this record as is (e.g. a value over its size policy): the runtime writes
   * it to the dead-letter topic with this reason, in the same transaction as its offset, or fails the task when no
   * dead-letter topic is configured.
   */
  deadLetterReason?: string;
  /**
   * Set by a connector that drops this record by its own filter rules: nothing is written, but the offset advances
   * with the transaction and the record is confirmed through commitRecord like any other (so upstream acks move on).
   * The value names the rule, for metrics.
   */
  filteredBy?: string;
}
