import { CompressionTypes } from 'kafkajs';
import { ConfigError } from '../api/errors.ts';

/** The Kafka client properties (Java names) we honour, mapped onto kafkajs producer/send options. */
export interface ProducerTuning {
  transactionTimeoutMs?: number;
  requestTimeoutMs?: number;
  retries?: number;
  retryBackoffMs?: number;
  compression: CompressionTypes;
  maxRequestSize?: number;
}

const COMPRESSION: Record<string, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
};

/** Settings exactly-once delivery depends on: accepted only with the value it needs. */
const PINNED: Record<string, string[]> = {
  acks: ['all', '-1'],
  'enable.idempotence': ['true'],
  'max.in.flight.requests.per.connection': ['1'],
};

export function producerTuning(props: Record<string, string>, origin: string): ProducerTuning {
  const problems: string[] = [];
  const tuning: ProducerTuning = { compression: CompressionTypes.None };
  const int = (key: string, value: string): number | undefined => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) {
      problems.push(`${origin} ${key}: must be a non-negative integer, got "${value}"`);
      return undefined;
    }
    return n;
  };
  for (const [key, value] of Object.entries(props)) {
    switch (key) {
      case 'transaction.timeout.ms': tuning.transactionTimeoutMs = int(key, value); break;
      case 'request.timeout.ms': tuning.requestTimeoutMs = int(key, value); break;
      case 'retries': tuning.retries = int(key, value); break;
      case 'retry.backoff.ms': tuning.retryBackoffMs = int(key, value); break;
      case 'compression.type': {
        const c = COMPRESSION[value];
        if (c === undefined) problems.push(`${origin} ${key}: supported values are ${Object.keys(COMPRESSION).join(', ')}, got "${value}"`);
        else tuning.compression = c;
        break;
      }
      case 'client.id': case 'linger.ms': case 'batch.size': break; // batching is driven by poll size
      case 'max.request.size': tuning.maxRequestSize = int(key, value); break; // request split size; record limit (dead-letter routing)
      default: {
        const allowed = PINNED[key];
        if (allowed) {
          if (!allowed.includes(value)) problems.push(`${origin} ${key}: exactly-once delivery requires ${allowed[0]}, got "${value}"`);
        } else {
          problems.push(`${origin} ${key}: not a supported producer property`);
        }
      }
    }
  }
  if (problems.length) throw new ConfigError(problems, 'Invalid producer settings');
  return tuning;
}
