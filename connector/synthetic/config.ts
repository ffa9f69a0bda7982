import type { ConfigIssue } from '../../runtime/api/connector.ts';

/** Keys of the synthetic sequence generator, each with default and meaning. */
export const SYNTHETIC_KEYS = {
  'synthetic.topic': { default: 'synthetic', doc: 'topic the records go to' },
  'synthetic.streams': { default: '4', doc: 'independent sequences (source partitions), split across tasks' },
  'synthetic.rate': { default: '0', doc: 'records per second per task; 0 = as fast as possible' },
  'synthetic.batch.size': { default: '500', doc: 'records returned by one poll at most' },
  'synthetic.key.space': { default: '1000', doc: 'distinct message keys' },
  'synthetic.record.bytes': { default: '100', doc: 'payload size of each record' },
  'synthetic.max.records': { default: '0', doc: 'stop producing after this many records per stream; 0 = never' },
} as const;

export interface SyntheticSettings {
  topic: string;
  streams: number;
  rate: number;
  batchSize: number;
  keySpace: number;
  recordBytes: number;
  maxRecords: number;
}

const INTEGER_KEYS: Array<[keyof typeof SYNTHETIC_KEYS, number]> = [
  ['synthetic.streams', 1], ['synthetic.rate', 0], ['synthetic.batch.size', 1], ['synthetic.key.space', 1],
  ['synthetic.record.bytes', 0], ['synthetic.max.records', 0],
];

export function validateSynthetic(config: Record<string, string>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [key, min] of INTEGER_KEYS) {
    const raw = config[key];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) issues.push({ key, message: `must be an integer ≥ ${min}, got "${raw}"` });
  }
  const topic = config['synthetic.topic'];
  if (topic !== undefined && !/^[A-Za-z0-9._-]{1,249}$/.test(topic)) issues.push({ key: 'synthetic.topic', message: `not a valid Kafka topic name: "${topic}"` });
  return issues;
}

export function syntheticSettings(config: Record<string, string>): SyntheticSettings {
  const get = (key: keyof typeof SYNTHETIC_KEYS): string => config[key] ?? SYNTHETIC_KEYS[key].default;
  return {
    topic: get('synthetic.topic'),
    streams: Number(get('synthetic.streams')),
    rate: Number(get('synthetic.rate')),
    batchSize: Number(get('synthetic.batch.size')),
    keySpace: Number(get('synthetic.key.space')),
    recordBytes: Number(get('synthetic.record.bytes')),
    maxRecords: Number(get('synthetic.max.records')),
  };
}
