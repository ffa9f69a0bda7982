import type { Converter } from '../api/converter.ts';
import type { SourceRecord } from '../api/record.ts';
import { ConnectError } from '../api/errors.ts';
import type { OutgoingRecord } from '../kafka/types.ts';
import type { DeadLetterRouter } from './dead-letter.ts';
import type { TaskMetrics } from './task-metrics.ts';

export interface RecordConversionDeps {
  keyConverter: Converter;
  valueConverter: Converter;
  deadLetters: DeadLetterRouter;
  metrics: TaskMetrics;
}

const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Converts every record; a record that cannot go out as is (unconvertible, too large, or marked by its connector)
 * is replaced by what the dead-letter router decides, and a filtered one is dropped. With `perRecord`, the answer
 * for each input record is pushed there too (its outgoing record, or undefined when nothing is written), so a
 * caller can keep records and their output side by side. `yieldEvery` > 0 gives the event loop a turn between
 * slices of this CPU-bound loop.
 */
export async function convertRecords(
  records: SourceRecord[],
  deps: RecordConversionDeps,
  receivedAt: number,
  opts: { yieldEvery?: number; perRecord?: Array<OutgoingRecord | undefined> } = {},
): Promise<OutgoingRecord[]> {
  const { keyConverter, valueConverter, deadLetters, metrics } = deps;
  const { yieldEvery = 0, perRecord } = opts;
  const out: OutgoingRecord[] = [];
  const emit = (rec: OutgoingRecord | undefined): void => {
    if (rec) out.push(rec);
    perRecord?.push(rec);
  };
  const reroute = (r: SourceRecord, stage: 'poll' | 'convert' | 'produce', reason: string, error?: unknown): void => {
    emit(deadLetters.route(r, stage, reason, error));
  };
  for (let i = 0; i < records.length; i++) {
    if (yieldEvery > 0 && i > 0 && i % yieldEvery === 0) await yieldToIo();
    const r = records[i]!;
    if (r.filteredBy !== undefined) {
      metrics.recordsFiltered++;
      emit(undefined);
      continue;
    }
    if (r.deadLetterReason !== undefined) {
      reroute(r, 'poll', r.deadLetterReason);
      continue;
    }
    let key: Buffer | null;
    let value: Buffer | null;
    try {
      const k = keyConverter.fromConnectData(r.topic, r.key, r);
      key = k instanceof Promise ? await k : k;
      const v = valueConverter.fromConnectData(r.topic, r.value, r);
      value = v instanceof Promise ? await v : v;
    } catch (error) {
      const reason = `Could not convert a record for topic ${r.topic} (source offset ${JSON.stringify(r.sourceOffset)}): ${(error as Error).message}`;
      // A retriable failure (e.g. the schema registry is down) is retried, never tolerated: nothing may pass it.
      if ((error as ConnectError).retriable) throw new ConnectError(reason, { code: 'CONVERSION', stage: 'convert', retriable: true, cause: error });
      reroute(r, 'convert', reason, error);
      continue;
    }
    const tooLarge = deadLetters.oversize(key, value);
    if (tooLarge) {
      reroute(r, 'produce', `${tooLarge} for topic ${r.topic} (source offset ${JSON.stringify(r.sourceOffset)})`);
      continue;
    }
    const rec: OutgoingRecord = { topic: r.topic, key, value, timestamp: r.timestamp ?? receivedAt };
    if (r.kafkaPartition !== undefined) rec.partition = r.kafkaPartition;
    if (r.partitionKey !== undefined) rec.partitionKey = typeof r.partitionKey === 'string' ? Buffer.from(r.partitionKey) : r.partitionKey;
    if (r.headers) rec.headers = r.headers;
    emit(rec);
  }
  return out;
}
