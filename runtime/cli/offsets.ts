import { ConfigError } from '../api/errors.ts';
import type { SourceOffset, SourcePartition } from '../api/record.ts';
import { loadWorkerConfig, type WorkerConfig } from '../config/index.ts';
import { KafkaJsClient } from '../kafka/kafkajs-client.ts';
import { kafkaSecurity, type KafkaSecurity } from '../kafka/security.ts';
import { readOffsets, resetOffsets, writeOffsets, type OffsetWriteTarget } from '../rest/offset-admin.ts';
import { basicAuth } from '../rest/index.ts';
import { createRootLogger } from '../util/logger.ts';
import { ensureOffsetsTopic } from '../storage/offset-store.ts';
import type { KafkaClient } from '../kafka/types.ts';

export type OffsetsAction =
  | { kind: 'show' }
  | { kind: 'reset' }
  | { kind: 'set'; partition: string; offset: string };

export interface OffsetsOptions {
  /** Write even when a worker answering on the worker's listeners runs the connector. */
  force?: boolean;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

/**
 * `pika-connect offsets show|reset|set <worker.properties> <connector> …`: reads or writes the connector's offsets
 * in the worker's offsets topic, without a running worker. Writes are one Kafka transaction in Kafka Connect's
 * layout (reset = tombstones). Returns the exit code: 0 done, 1 Kafka error, 2 bad input or connector running.
 */
export async function runOffsets(action: OffsetsAction, workerFile: string, connector: string, opts: OffsetsOptions = {}): Promise<number> {
  const out = opts.out ?? ((t) => process.stdout.write(t));
  const err = opts.err ?? ((t) => process.stderr.write(t));
  let worker: WorkerConfig;
  let change: { partition: SourcePartition; offset: SourceOffset } | undefined;
  let security: KafkaSecurity;
  try {
    worker = loadWorkerConfig(workerFile);
    security = kafkaSecurity(worker.securityProps, worker.file);
    basicAuth(worker);
    if (action.kind === 'set') change = { partition: parseFlatJson(action.partition, 'partition'), offset: parseFlatJson(action.offset, 'offset') };
  } catch (error) {
    err(`${(error as Error).message}\n`);
    return 2;
  }
  if (action.kind !== 'show' && !opts.force) {
    const running = await runningElsewhere(worker, connector);
    if (running) {
      err(`${running}\nStop it first (curl -X PUT ${running.split(' ')[0]}/connectors/${connector}/stop), or pass --force.\n`);
      return 2;
    }
  }
  const logger = createRootLogger('warn');
  const client = new KafkaJsClient({ brokers: worker.bootstrapServers, clientId: `${worker.clientId}-offsets-cli`, logger: logger.child({ component: 'kafka' }), security });
  const target: OffsetWriteTarget = { client, topic: worker.offsetStorageTopic, connector, clientId: worker.clientId, producerOverrides: worker.producerProps };
  try {
    await checkOffsetsTopic(client, worker, action.kind === 'set');
    if (action.kind === 'show') {
      out(`${JSON.stringify(await readOffsets(client, target.topic, connector), null, 2)}\n`);
    } else if (action.kind === 'reset') {
      const count = await resetOffsets(target);
      out(`reset ${count} partition(s) of connector ${connector} in ${target.topic}\n`);
    } else {
      await writeOffsets(target, [change!]);
      out(`set ${JSON.stringify(change!.partition)} of connector ${connector} to ${JSON.stringify(change!.offset)} in ${target.topic}\n`);
    }
    return 0;
  } catch (error) {
    err(`offsets ${action.kind} failed: ${(error as Error).message}\n`);
    return error instanceof ConfigError ? 2 : 1;
  } finally {
    await client.close();
  }
}

/**
 * `set` creates the offsets topic as a worker would (compacted), so offsets can be seeded before the first start;
 * `show` and `reset` need it to exist.
 */
async function checkOffsetsTopic(client: KafkaClient, worker: WorkerConfig, create: boolean): Promise<void> {
  const admin = await client.admin();
  try {
    const spec = { name: worker.offsetStorageTopic, partitions: worker.offsetStoragePartitions, replicationFactor: worker.offsetStorageReplicationFactor };
    if (create) return await ensureOffsetsTopic(admin, spec);
    if (!(await admin.existingTopics([spec.name])).has(spec.name)) {
      throw new Error(`the offsets topic ${spec.name} (offset.storage.topic of ${worker.file}) does not exist at ${worker.bootstrapServers.join(',')}: no worker with this file has run yet, or the file names another cluster or topic`);
    }
  } finally {
    await admin.close().catch(() => {});
  }
}

/** Describes the worker that runs `connector` (not STOPPED) on this worker file's listeners, if one answers. */
async function runningElsewhere(worker: WorkerConfig, connector: string): Promise<string | undefined> {
  const auth = basicAuth(worker);
  for (const listener of worker.listeners) {
    const base = listener.replace('://:', '://127.0.0.1:').replace(/\/$/, '');
    try {
      const res = await fetch(`${base}/connectors/${encodeURIComponent(connector)}/status`, {
        signal: AbortSignal.timeout(2000),
        ...(auth ? { headers: { authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}` } } : {}),
      });
      if (res.status !== 200) continue;
      const state = ((await res.json()) as { connector?: { state?: string } }).connector?.state;
      if (state !== 'STOPPED') return `${base} runs connector ${connector} (state ${state}); its tasks would overwrite the offsets.`;
    } catch {
      // nothing answers there
    }
  }
  return undefined;
}

function parseFlatJson(text: string, what: string): Record<string, string | number | boolean | null> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`${what}: not valid JSON (${(error as Error).message}): ${text}`]);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError([`${what}: must be a JSON object like {"stream":0}, got ${text}`]);
  for (const [k, v] of Object.entries(value)) {
    if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new ConfigError([`${what}: field ${k} must be a string, number, boolean or null`]);
  }
  return value as Record<string, string | number | boolean | null>;
}
