import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { arch, platform, release } from 'node:os';
import { createRequire } from 'node:module';
import { ConfigError } from '../api/errors.ts';
import { loadConnectorConfig, loadWorkerConfig, readPropertiesFile, type WorkerConfig } from '../config/index.ts';
import { bundledPlugins } from '../bundled-plugins.ts';
import { KafkaJsClient } from '../kafka/kafkajs-client.ts';
import { kafkaSecurity } from '../kafka/security.ts';
import { readOffsets } from '../rest/offset-admin.ts';
import { basicAuth, versionInfo } from '../rest/index.ts';
import { maskConfig } from '../rest/masking.ts';
import { createRootLogger } from '../util/logger.ts';

export interface DiagnoseOptions {
  /** REST base URL of a running worker; default: the worker file's first listener, else http://127.0.0.1:8083. */
  url?: string;
  /** Output file; default pika-connect-diagnose-<time>.json in the current directory. */
  out?: string;
  /** Bound on each Kafka / HTTP step (ms). */
  timeoutMs?: number;
}

/**
 * `pika-connect diagnose [worker.properties] [connector.properties…]`: one JSON support bundle with versions,
 * redacted configs and their problems, the running worker's status, loggers and metrics (through its REST API when
 * one answers), topic metadata and committed offsets. Every step that fails is recorded with its error instead.
 * Secrets are replaced by "[hidden]". Returns the path written.
 */
export async function runDiagnose(workerFile: string | undefined, connectorFiles: string[], opts: DiagnoseOptions = {}): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const bundle: Record<string, unknown> = { generated_at: new Date().toISOString(), versions: versions() };

  let worker: WorkerConfig | undefined;
  if (workerFile) {
    const section: Record<string, unknown> = { file: workerFile, props: redactedFile(workerFile) };
    try {
      worker = loadWorkerConfig(workerFile);
    } catch (error) {
      section.problems = error instanceof ConfigError ? error.problems : [(error as Error).message];
    }
    bundle.worker_config = section;
  }
  const plugins = bundledPlugins();
  const lookup = Object.assign((cls: string) => plugins.connector(cls), { knownNames: () => plugins.connectorNames() });
  const connectors = connectorFiles.map((file) => {
    const props = redactedFile(file);
    let problems: string[] = [];
    try {
      loadConnectorConfig(file, lookup);
    } catch (error) {
      problems = error instanceof ConfigError ? error.problems : [(error as Error).message];
    }
    return { file, props, ...(problems.length ? { problems } : {}) };
  });
  if (connectors.length) bundle.connector_configs = connectors;
  const masters = await Promise.all(connectorFiles.map((file) => pikaMasterInfo(file, timeoutMs)));
  if (masters.some((m) => m !== undefined)) bundle.pika_masters = masters.filter((m) => m !== undefined);

  const base = (opts.url ?? worker?.listeners[0]?.replace('://:', '://127.0.0.1:') ?? 'http://127.0.0.1:8083').replace(/\/$/, '');
  bundle.rest = await restSnapshot(base, worker, timeoutMs);

  if (worker) bundle.kafka = await kafkaSnapshot(worker, connectors.map((c) => c.props), bundle.rest as RestSnapshot, timeoutMs);

  const path = opts.out ?? `pika-connect-diagnose-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(path, `${JSON.stringify(bundle, null, 2)}\n`);
  return path;
}

type RestSnapshot = { url: string; reachable: boolean; [k: string]: unknown };

async function restSnapshot(base: string, worker: WorkerConfig | undefined, timeoutMs: number): Promise<RestSnapshot> {
  const auth = worker ? safe(() => basicAuth(worker)) : undefined;
  const headers: Record<string, string> = auth && 'user' in auth ? { authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}` } : {};
  const get = async (path: string, json = true): Promise<unknown> => {
    const res = await fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (!res.ok) return { error: `HTTP ${res.status}: ${text.slice(0, 500)}` };
    return json ? JSON.parse(text) : text;
  };
  try {
    const root = await get('/');
    const snapshot: RestSnapshot = { url: base, reachable: true, root };
    for (const [key, path, json] of [
      ['connectors', '/connectors?expand=status&expand=info', true],
      ['loggers', '/admin/loggers', true],
      ['recent_problems', '/admin/recent-problems', true],
      ['metrics', '/metrics', false],
    ] as const) {
      snapshot[key] = await get(path, json).catch((error: Error) => ({ error: error.message }));
    }
    return snapshot;
  } catch (error) {
    return { url: base, reachable: false, error: `no worker answered: ${(error as Error).message}` };
  }
}

async function kafkaSnapshot(worker: WorkerConfig, connectorProps: Array<Record<string, string>>, rest: RestSnapshot, timeoutMs: number): Promise<Record<string, unknown>> {
  const logger = createRootLogger('error');
  let security;
  try {
    security = kafkaSecurity(worker.securityProps, worker.file);
  } catch (error) {
    return { bootstrap_servers: worker.bootstrapServers, error: (error as Error).message };
  }
  const client = new KafkaJsClient({ brokers: worker.bootstrapServers, clientId: `${worker.clientId}-diagnose`, logger, connectTimeoutMs: timeoutMs, security });
  const names = new Set<string>();
  for (const props of connectorProps) if (props.name) names.add(props.name);
  const running = rest.connectors && typeof rest.connectors === 'object' && !('error' in rest.connectors) ? Object.keys(rest.connectors) : [];
  for (const n of running) names.add(n);
  const topics = new Set([worker.offsetStorageTopic]);
  for (const props of connectorProps) {
    for (const [key, value] of Object.entries(props)) if (/(^|\.)topic(\.name)?$/.test(key) && value) topics.add(value);
  }
  const out: Record<string, unknown> = { bootstrap_servers: worker.bootstrapServers };
  try {
    const admin = await withTimeout(client.admin(), timeoutMs, 'connecting to Kafka');
    try {
      out.cluster_id = await admin.clusterId?.().catch((e: Error) => ({ error: e.message }));
      const existing = await admin.existingTopics([...topics]);
      out.missing_topics = [...topics].filter((t) => !existing.has(t));
      out.topics = existing.size ? await admin.topicMetadata?.([...existing]).catch((e: Error) => ({ error: e.message })) : [];
      out.offsets_topic_config = await admin.topicConfig(worker.offsetStorageTopic, ['cleanup.policy', 'min.insync.replicas']).catch((e: Error) => ({ error: e.message }));
    } finally {
      await admin.close().catch(() => {});
    }
    const offsets: Record<string, unknown> = {};
    for (const name of names) {
      offsets[name] = await withTimeout(readOffsets(client, worker.offsetStorageTopic, name), timeoutMs * 3, 'reading offsets')
        .then((o) => o.offsets)
        .catch((e: Error) => ({ error: e.message }));
    }
    out.offsets = offsets;
  } catch (error) {
    out.error = (error as Error).message;
  } finally {
    await client.close();
  }
  return out;
}

/**
 * `INFO replication` of the Pika master a connector file names (`pika.host`, `pika.port`, AUTH with `pika.password`
 * when set): undefined for files without `pika.host`. Failures are recorded; the password never appears.
 */
async function pikaMasterInfo(file: string, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
  let props: Record<string, string>;
  try {
    const { entries } = readPropertiesFile(file);
    props = Object.fromEntries([...entries.values()].map((e) => [e.key, e.value]));
  } catch {
    return undefined; // already reported under connector_configs
  }
  const host = props['pika.host'];
  if (!host) return undefined;
  const port = Number(props['pika.port'] ?? '9221');
  const password = props['pika.password'] || undefined;
  const out: Record<string, unknown> = { connector: props.name ?? null, file, host, port, auth: password !== undefined };
  const hide = (text: string): string => (password ? text.split(password).join('[hidden]') : text);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return { ...out, error: `pika.port ${JSON.stringify(props['pika.port'])} is not a TCP port` };
  try {
    const replies = await respExchange(host, port, [...(password ? [['AUTH', password]] : []), ['INFO', 'replication']], timeoutMs);
    if (password && replies[0]?.text !== 'OK') return { ...out, error: `AUTH refused: ${hide(replies[0]?.text ?? '')}` };
    const info = replies[replies.length - 1]!;
    const text = hide(info.text);
    if (info.error) return { ...out, error: `INFO replication refused: ${text}` };
    out.info_replication = text;
    out.fields = Object.fromEntries(text.split(/\r?\n/).filter((l) => l.includes(':') && !l.startsWith('#')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
  } catch (error) {
    out.error = hide((error as Error).message);
  }
  return out;
}

/**
 * Sends RESP commands on one connection and returns one reply per command (error replies marked; the caller
 * decides). Bounded by `timeoutMs` for the whole exchange.
 */
type RespReply = { text: string; error: boolean };

function respExchange(host: string, port: number, commands: string[][], timeoutMs: number): Promise<RespReply[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffer = Buffer.alloc(0);
    const replies: RespReply[] = [];
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(replies);
    };
    const timer = setTimeout(() => finish(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('error', (e) => finish(new Error(`cannot reach ${host}:${port}: ${e.message}`)));
    socket.on('close', () => finish(new Error(`${host}:${port} closed the connection after ${replies.length} of ${commands.length} replies`)));
    socket.on('connect', () => {
      socket.write(commands.map((argv) => `*${argv.length}\r\n${argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`).join(''));
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      try {
        for (let reply = readReply(); reply !== undefined; reply = readReply()) {
          replies.push(reply);
          if (replies.length === commands.length) return finish();
        }
      } catch (error) {
        finish(error as Error);
      }
    });
    function readReply(): RespReply | undefined {
      const eol = buffer.indexOf('\r\n');
      if (eol < 0) return undefined;
      const line = buffer.subarray(1, eol).toString('utf8');
      const kind = String.fromCharCode(buffer[0]!);
      if (kind === '+' || kind === '-' || kind === ':') {
        buffer = buffer.subarray(eol + 2);
        return { text: line, error: kind === '-' };
      }
      if (kind !== '$') throw new Error(`${host}:${port} is not a Pika/Redis server: unexpected reply ${JSON.stringify(buffer.subarray(0, 40).toString('latin1'))}`);
      const length = Number(line);
      if (length < 0) {
        buffer = buffer.subarray(eol + 2);
        return { text: '', error: false };
      }
      if (buffer.length < eol + 2 + length + 2) return undefined;
      const text = buffer.subarray(eol + 2, eol + 2 + length).toString('utf8');
      buffer = buffer.subarray(eol + 2 + length + 2);
      return { text, error: false };
    }
  });
}

function versions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const pkgVersion = (name: string): string => safe(() => (require(`${name}/package.json`) as { version: string }).version) ?? 'unknown';
  const { version, commit } = versionInfo();
  return {
    pika_connect: version, commit, node: process.version, os: `${platform()} ${release()} ${arch()}`,
    kafkajs: pkgVersion('kafkajs'), 'prom-client': pkgVersion('prom-client'), pino: pkgVersion('pino'),
  };
}

/** The file's keys with secrets hidden; an unreadable file gives an error entry. */
function redactedFile(file: string): Record<string, string> {
  try {
    const { entries } = readPropertiesFile(file);
    return maskConfig(Object.fromEntries([...entries.values()].map((e) => [e.key, e.value])));
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}
