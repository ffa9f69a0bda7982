import type { SourceOffset, SourcePartition, SourceRecord } from '../../../runtime/api/index.ts';
import type { PikaEvent } from '../events/event.ts';
import { eventKafkaKey, eventPartitionKey } from '../events/kafka-keys.ts';
import type { EventFilterDecider } from '../filters/index.ts';

export interface EventPlacement {
  sourcePartition: SourcePartition;
  sourceOffset: SourceOffset;
  topic: string;
  /** The event's exact key bytes when the caller has them (else key_b64 is decoded for the Kafka keys). */
  keyBytes?: Buffer;
}

/**
 * The SourceRecord of one Pika event, as every sync path builds it: Kafka key and partition key from the event, the
 * filter's verdict attached (a filtered record still advances its offset), and the dead-letter reason when the event
 * must go to the DLQ instead (snapshot.oversize.policy=dlq).
 */
export function eventRecord(event: PikaEvent, at: EventPlacement, filter: EventFilterDecider, deadLetterReason?: string): SourceRecord {
  const record: SourceRecord = {
    sourcePartition: at.sourcePartition,
    sourceOffset: at.sourceOffset,
    topic: at.topic,
    key: eventKafkaKey(event, at.keyBytes),
    value: event,
    partitionKey: eventPartitionKey(event, at.keyBytes),
  };
  if (deadLetterReason !== undefined) record.deadLetterReason = deadLetterReason;
  const decision = filter(event);
  if (!decision.pass) record.filteredBy = decision.reason;
  return record;
}
