// The worker config: one `.properties` file plus CONNECT_* environment overrides.
import { ConfigError } from '../api/errors.ts';
import { envEntries, WORKER_ENV_PREFIX } from './env.ts';
import { formatProblem, sortProblems, type Entry, type Problem } from './problems.ts';
import { readPropertiesFile } from './properties-file.ts';
import { findKey, findPrefix, stripPrefix } from './schema.ts';
import { checkSchema, mapEntries, overlay, propsOf, unknownKeyProblem } from './validate.ts';
import { workerSchema } from './worker-schema.ts';

export interface WorkerConfig {
  /** The file it was loaded from (or the source name given to parseWorkerProps). */
  file: string;
  bootstrapServers: string[];
  offsetStorageTopic: string;
  offsetStoragePartitions: number;
  offsetStorageReplicationFactor: number;
  offsetFlushIntervalMs: number;
  offsetCheckpointDir: string;
  clientId: string;
  listeners: string[];
  keyConverter: string;
  valueConverter: string;
  /** `key.converter.*` keys without the prefix. */
  keyConverterProps: Record<string, string>;
  valueConverterProps: Record<string, string>;
  /** `producer.*`, `consumer.*`, `admin.*` keys without the prefix. */
  producerProps: Record<string, string>;
  consumerProps: Record<string, string>;
  adminProps: Record<string, string>;
  /** `security.protocol`, `sasl.*` and `ssl.*` with their full Kafka names. */
  securityProps: Record<string, string>;
  taskShutdownGracefulTimeoutMs: number;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  exactlyOnceSourceSupport: 'enabled' | 'preparing' | 'disabled';
  connectorRestartBackoffMaxMs: number;
  /** Every key after environment overrides, as written. */
  raw: Record<string, string>;
}

/** Loads and validates a worker file; `env` overrides keys (CONNECT_*). Throws one ConfigError listing every problem. */
export function loadWorkerConfig(file: string, env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = readPropertiesFile(file);
  return orThrow(checkWorker(parsed.entries, parsed.problems, file, env), file);
}

/** The same validation from a map (e.g. a REST request); `source` names it in messages. No env unless given. */
export function parseWorkerProps(
  props: Record<string, string>,
  opts: { source?: string; env?: NodeJS.ProcessEnv } = {},
): WorkerConfig {
  const source = opts.source ?? 'worker config';
  return orThrow(checkWorkerProps(props, opts), source);
}

export type WorkerCheck = { ok: true; config: WorkerConfig; problems: [] } | { ok: false; problems: Problem[] };

/** Like parseWorkerProps, but returns the problems (each with its key and message) instead of throwing. */
export function checkWorkerProps(
  props: Record<string, string>,
  opts: { source?: string; env?: NodeJS.ProcessEnv } = {},
): WorkerCheck {
  const source = opts.source ?? 'worker config';
  return checkWorker(mapEntries(props, source), [], source, opts.env ?? {});
}

function orThrow(check: WorkerCheck, source: string): WorkerConfig {
  if (check.ok) return check.config;
  throw new ConfigError(check.problems.map(formatProblem), `Invalid worker configuration (${source})`);
}

const isWorkerKey = (key: string) => findKey(workerSchema, key) !== undefined || findPrefix(workerSchema, key) !== undefined;
const workerKeyNames = workerSchema.keys.map((k) => k.name);

function checkWorker(
  fileEntries: ReadonlyMap<string, Entry>,
  parseProblems: Problem[],
  source: string,
  env: NodeJS.ProcessEnv,
): WorkerCheck {
  const problems = [...parseProblems];
  const overrides = envEntries(env, WORKER_ENV_PREFIX);
  for (const e of overrides) if (!isWorkerKey(e.key)) problems.push(unknownKeyProblem(e, workerSchema, workerKeyNames));
  const entries = overlay(fileEntries, overrides.filter((e) => isWorkerKey(e.key)));

  const checked = checkSchema(workerSchema, entries, source);
  problems.push(...checked.problems);
  for (const e of checked.unmatched) problems.push(unknownKeyProblem(e, workerSchema, workerKeyNames));
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };

  const v = checked.values;
  const raw = propsOf(entries);
  const securityProps: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'security.protocol' || key.startsWith('sasl.') || key.startsWith('ssl.')) securityProps[key] = value;
  }
  if (v.has('security.protocol')) securityProps['security.protocol'] = v.get('security.protocol') as string;
  const config: WorkerConfig = {
    file: source,
    bootstrapServers: v.get('bootstrap.servers') as string[],
    offsetStorageTopic: v.get('offset.storage.topic') as string,
    offsetStoragePartitions: v.get('offset.storage.partitions') as number,
    offsetStorageReplicationFactor: v.get('offset.storage.replication.factor') as number,
    offsetFlushIntervalMs: v.get('offset.flush.interval.ms') as number,
    offsetCheckpointDir: v.get('offset.checkpoint.dir') as string,
    clientId: v.get('client.id') as string,
    listeners: v.get('listeners') as string[],
    keyConverter: v.get('key.converter') as string,
    valueConverter: v.get('value.converter') as string,
    keyConverterProps: stripPrefix(raw, 'key.converter.'),
    valueConverterProps: stripPrefix(raw, 'value.converter.'),
    producerProps: stripPrefix(raw, 'producer.'),
    consumerProps: stripPrefix(raw, 'consumer.'),
    adminProps: stripPrefix(raw, 'admin.'),
    securityProps,
    taskShutdownGracefulTimeoutMs: v.get('task.shutdown.graceful.timeout.ms') as number,
    logLevel: v.get('log.level') as WorkerConfig['logLevel'],
    exactlyOnceSourceSupport: v.get('exactly.once.source.support') as WorkerConfig['exactlyOnceSourceSupport'],
    connectorRestartBackoffMaxMs: v.get('connector.restart.backoff.max.ms') as number,
    raw,
  };
  return { ok: true, config, problems: [] };
}
