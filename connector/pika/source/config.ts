// Configuration of the Pika source connector: every key with its default, meaning and check in one table;
// `validatePikaSource` lists every problem, `pikaSourceSettings` turns a valid config into typed settings.
import type { ConfigIssue } from '../../../runtime/api/index.ts';
import { blockThreadByDefault } from '../rocksdb/block-thread.ts';
import { FILTER_KEYS } from '../filters/index.ts';

type Check = (value: string, config: Record<string, string>) => string | undefined;

interface KeyDef {
  default?: string;
  required?: boolean;
  doc: string;
  check?: Check;
}

const PORT: Check = (v) => (/^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? undefined : `must be a TCP port (1..65535), got "${v}"`);
const oneOf = (...allowed: string[]): Check => (v) => (allowed.includes(v) ? undefined : `must be one of ${allowed.join(', ')}, got "${v}"`);
const NON_EMPTY: Check = (v) => (v.trim() === '' ? 'must not be empty' : undefined);
const TOPIC: Check = (v) => (/^[A-Za-z0-9._-]{1,249}$/.test(v) ? undefined : `not a valid Kafka topic name: "${v}"`);
const intAtLeast = (min: number, max = Number.MAX_SAFE_INTEGER): Check => (v) => {
  const n = Number(v);
  return /^\d+$/.test(v) && n >= min && n <= max ? undefined : `must be an integer in ${min}..${max}, got "${v}"`;
};
const DBS: Check = (v) => {
  const names = v.split(',').map((s) => s.trim());
  const bad = names.filter((n) => !/^db[0-7]$/.test(n));
  if (bad.length > 0) return `must be a comma-separated list of DB names db0..db7 (as Pika's MetaSync names them), got ${bad.map((b) => JSON.stringify(b)).join(', ')}`;
  if (new Set(names).size !== names.length) return `lists a DB twice: "${v}"`;
  return undefined;
};
const HOST: Check = (v) => (/^[A-Za-z0-9.:_-]+$/.test(v) ? undefined : `not a host name or IP address: "${v}"`);

export const PIKA_SOURCE_KEYS: Record<string, KeyDef> = {
  'pika.host': { required: true, doc: 'host of the Pika master', check: HOST },
  'pika.port': { default: '9221', doc: 'RESP port of the Pika master', check: PORT },
  'pika.password': { doc: "the master's requirepass; sent as MetaSync auth (empty = none)" },
  'pika.repl.port': { doc: 'replication (PB) port of the master; default pika.port + 2000 (override for NAT)', check: PORT },
  'pika.rsync.port': { doc: 'rsync2 port of the master (full sync); default pika.port + 10001 (override for NAT)', check: PORT },
  'pika.dbs': { doc: 'comma-separated DBs to capture (db0,db1,…); default every DB the master lists in MetaSync', check: DBS },
  'pika.replica.ip': { doc: 'IP announced to the master as this replica\'s identity; default the local address of the replication socket', check: HOST },
  'pika.replica.port': { doc: 'port announced with pika.replica.ip; default the local port of the replication socket (unique per connection). Pika 3.1–3.4 masters push full syncs to pika.replica.ip:pika.replica.port + 1000, where the connector runs an rsync daemon: both keys are then required', check: PORT },
  'sync.protocol': {
    default: 'auto',
    doc: 'replication protocol: pb = Pika 3.1+ (PB on pika.repl.port); legacy = Pika 2.x/3.0 (TRYSYNC on pika.port, heartbeat on pika.port + 2000, the master connects back to pika.replica.port + 1000); auto = a PB MetaSync probe on pika.repl.port, legacy when that port refuses or does not answer PB',
    check: oneOf('auto', 'pb', 'legacy'),
  },
  'legacy.binlog.receiver.port': { doc: 'legacy: port the binlog receiver listens on; default pika.replica.port + 1000 (where the master connects; differ only behind port forwarding)', check: PORT },
  'legacy.listen.host': { default: '0.0.0.0', doc: 'legacy: local address the binlog receiver listens on', check: HOST },
  'pika.replica.rsync.port': { doc: 'Pika 3.0 / 3.1–3.4 full sync: port the connector\'s rsync daemon listens on; default pika.replica.port + 3000 (3.0) / + 1000 (3.1–3.4), where the master pushes (override only when that port is forwarded elsewhere)', check: PORT },
  'pika.replica.rsync.bind': { default: '0.0.0.0', doc: 'Pika 3.0 / 3.1–3.4 full sync: address the connector\'s rsync daemon listens on', check: HOST },
  'source.id': { required: true, doc: 'stable id of this Pika source; part of every source partition and event', check: NON_EMPTY },
  cluster: { required: true, doc: 'logical cluster name; used in the default topic names', check: (v) => (/^[A-Za-z0-9._-]+$/.test(v) ? undefined : `may only contain letters, digits, ".", "_" and "-", got "${v}"`) },
  'stream.mode': { default: 'dual', doc: 'dual = snapshot and binlog events in separate topics; single = both in topic.single', check: oneOf('dual', 'single') },
  'topic.snapshot': { doc: 'snapshot topic in dual mode; default pika.<cluster>.snapshot', check: TOPIC },
  'topic.binlog': { doc: 'binlog topic in dual mode; default pika.<cluster>.binlog', check: TOPIC },
  'topic.single': { doc: 'the one topic in single mode; default pika.<cluster>.stream', check: TOPIC },
  'snapshot.mode': {
    default: 'initial',
    doc: 'initial = full sync (snapshot) when a DB has no committed offset, then the binlog; when_needed = also when the committed offset is unusable (gap), whatever snapshot.on.gap says; always = a full sync at every start; never = no snapshot: a DB without offset starts at the master\'s current binlog position like a new replica (earlier data is not captured)',
    check: oneOf('initial', 'when_needed', 'always', 'never'),
  },
  'snapshot.on.gap': {
    default: 'resync',
    doc: 'when the binlog cannot continue (purged, master behind, changed replication id, non-boundary offset): fail = stop the task; resync = full sync of that DB again (snapshot events, then the binlog from the new dump). Lost items inside a stream always stop the task',
    check: oneOf('fail', 'resync'),
  },
  'snapshot.dir': { doc: 'local directory for downloaded dumps (one subdirectory per DB, resumable); default ./data/pika-connect/<connector name>/dumps', check: NON_EMPTY },
  'snapshot.max.elements.per.event': { default: '1000', doc: 'a collection with more elements is split into several snapshot events (parts) of at most this many', check: intAtLeast(1, 10_000_000) },
  'snapshot.max.bytes.per.event': { default: String(512 * 1024), doc: 'bound on the raw bytes of one snapshot event\'s arguments (keep well under the producer\'s max.request.size: base64 and the envelope add about 40 %)', check: intAtLeast(1, 1024 * 1024 * 1024) },
  'snapshot.oversize.policy': {
    default: 'fail',
    doc: 'a string (or one element) over snapshot.max.bytes.per.event: fail = stop the task; skip = leave it out (logged, counted in snapshot-end); dlq = send it to errors.deadletterqueue.topic.name',
    check: (v, config) => oneOf('fail', 'skip', 'dlq')(v, config) ?? (v === 'dlq' && !config['errors.deadletterqueue.topic.name'] ? 'dlq needs errors.deadletterqueue.topic.name' : undefined),
  },
  'snapshot.download.cleanup': {
    default: 'true',
    doc: 'true = delete a DB\'s downloaded dump (under snapshot.dir) once its snapshot-end event is committed to Kafka; false = keep it (e.g. to inspect it). Until that commit the dump is always kept, so a restarted snapshot resumes from the local copy',
    check: oneOf('true', 'false'),
  },
  'snapshot.decode.threads': { default: '1', doc: 'worker threads decoding a downloaded dump\'s RocksDB instances (and key ranges of big ones) at once: 1 = decode in the task\'s own thread (default: measured faster so far, see bench/fullsync-decode.ts), 0 = one per CPU core; with more than one, events of different lanes interleave, each key\'s events stay together and in order', check: intAtLeast(0, 64) },
  'snapshot.decode.block.thread': {
    default: 'auto',
    doc: 'true = while the task\'s thread decodes a downloaded dump (snapshot.decode.threads=1), a helper thread reads the data blocks of its big SSTs ahead and verifies and decompresses them: ~1.1-1.4x faster decoding when a CPU core is spare, ~25-55 MiB more memory (bench/fullsync-decode.ts, bench/fullsync-big-hash.ts); false = all in the task\'s thread; auto (default) = true when the machine has more than one CPU core',
    check: oneOf('auto', 'true', 'false'),
  },
  'snapshot.fetch.max.bytes.per.second': { default: '0', doc: 'throttle of the dump download (bytes/s, 0 = unlimited), to spare the master\'s disk and network like Pika\'s throttle-bytes-per-second', check: intAtLeast(0) },
  'snapshot.push.timeout.ms': {
    default: '300000',
    doc: 'Pika 3.0 and 3.1–3.4, whose masters push full syncs to our rsync daemon: give the push up when nothing arrived (no new file or byte, no connection) for this long — the task fails, counts it (status rsync_push.timeouts, pika_source_push_timeouts_total) and its restart asks the master for the full sync again; 0 = wait for ever (what a Pika 3.0 replica does; a 3.3 replica re-TrySyncs after 20 s without a message from the master). Allow for the master\'s bgsave, which comes first',
    check: intAtLeast(0),
  },
  'poll.max.records': { default: '4000', doc: 'binlog items handed to the runtime per poll at most', check: intAtLeast(1, 1_000_000) },
  'pika.ping.interval.ms': { default: '2000', doc: 'longest time without a request to the master per DB (ping); at most 5000', check: intAtLeast(1, 5000) },
  'pika.silence.timeout.ms': { default: '20000', doc: 'reconnect when nothing (keepalives included) arrived for this long', check: intAtLeast(100) },
  'spill.enabled': {
    default: 'false',
    doc: 'true = when Kafka commits nothing for spill.after.ms while binlog items wait, keep following the master by writing the items to a local fsync\'d log (spill.dir) and acknowledging them to the master, so its binlog purge cannot outrun this connector; the log is replayed into Kafka exactly once when Kafka is back',
    check: oneOf('true', 'false'),
  },
  'spill.dir': { doc: 'directory of the spill log (keep it on a local disk; one per connector); default ./data/pika-connect/<connector name>/spill', check: NON_EMPTY },
  'spill.max.bytes': { default: String(1024 * 1024 * 1024), doc: 'bound on the spill log\'s size on disk; when full, acks to the master stop (back-pressure: the master stops sending) — nothing is dropped', check: intAtLeast(1024 * 1024) },
  'spill.after.ms': { default: '30000', doc: 'how long without a committed Kafka transaction (while items wait for one) before spilling starts; keep it above transaction.boundary.interval.ms', check: intAtLeast(100) },
  ...FILTER_KEYS,
};

export type StreamMode = 'dual' | 'single';
export type SnapshotMode = 'initial' | 'when_needed' | 'always' | 'never';

export interface PikaSourceSettings {
  host: string;
  port: number;
  password: string | undefined;
  replPort: number;
  rsyncPort: number;
  dbs: string[] | undefined;
  replicaIp: string | undefined;
  replicaPort: number | undefined;
  syncProtocol: 'auto' | 'pb' | 'legacy';
  legacyReceiverPort: number | undefined;
  legacyListenHost: string;
  /** Undefined = replicaPort + 1000. */
  replicaRsyncPort: number | undefined;
  replicaRsyncBind: string;
  sourceId: string;
  cluster: string;
  streamMode: StreamMode;
  topicSnapshot: string;
  topicBinlog: string;
  topicSingle: string;
  snapshotMode: SnapshotMode;
  snapshotOnGap: 'fail' | 'resync';
  /** Undefined = the default under ./data/pika-connect/<connector>/ (the task knows the connector name). */
  snapshotDir: string | undefined;
  snapshotMaxElementsPerEvent: number;
  snapshotMaxBytesPerEvent: number;
  snapshotOversizePolicy: 'fail' | 'skip' | 'dlq';
  snapshotFetchBytesPerSecond: number;
  snapshotPushTimeoutMs: number;
  snapshotDownloadCleanup: boolean;
  /** 0 = one per CPU core. */
  snapshotDecodeThreads: number;
  snapshotDecodeBlockThread: boolean;
  pollMaxRecords: number;
  pingIntervalMs: number;
  silenceTimeoutMs: number;
  spillEnabled: boolean;
  /** Undefined = the default under ./data/pika-connect/<connector>/. */
  spillDir: string | undefined;
  spillMaxBytes: number;
  spillAfterMs: number;
}

export function validatePikaSource(config: Record<string, string>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [key, def] of Object.entries(PIKA_SOURCE_KEYS)) {
    const value = config[key];
    if (value === undefined) {
      if (def.required) issues.push({ key, message: `is required: ${def.doc}` });
      continue;
    }
    const problem = def.check?.(value, config);
    if (problem) issues.push({ key, message: problem });
  }
  const port = Number(config['pika.port'] ?? PIKA_SOURCE_KEYS['pika.port']!.default);
  for (const [key, delta] of [['pika.repl.port', 2000], ['pika.rsync.port', 10001]] as const) {
    if (config[key] === undefined && Number.isInteger(port) && port <= 65535 && port + delta > 65535) {
      issues.push({ key, message: `default pika.port + ${delta} = ${port + delta} is not a valid port; set ${key} explicitly` });
    }
  }
  if ((config['pika.replica.ip'] === undefined) !== (config['pika.replica.port'] === undefined)) {
    const missing = config['pika.replica.ip'] === undefined ? 'pika.replica.ip' : 'pika.replica.port';
    issues.push({ key: missing, message: 'pika.replica.ip and pika.replica.port go together: set both or neither' });
  }
  if (config['sync.protocol'] === 'legacy') issues.push(...legacyIssues(config));
  return issues;
}

/** What a legacy (2.x/3.0) master needs: a reachable ip:port for it to connect back to (also checked when auto picks legacy). */
export function legacyIssues(config: Record<string, string>): ConfigIssue[] {
  const port = config['pika.replica.port'];
  if (config['pika.replica.ip'] === undefined || port === undefined) {
    return [{ key: 'pika.replica.port', message: 'a legacy (Pika 2.x/3.0) master needs pika.replica.ip and pika.replica.port: the address reported in TRYSYNC, which the master connects back to (port + 1000 binlog, port + 3000 rsync full sync)' }];
  }
  if (/^\d+$/.test(port) && Number(port) + 3000 > 65535 && config['legacy.binlog.receiver.port'] === undefined) {
    return [{ key: 'pika.replica.port', message: `a legacy master connects back to pika.replica.port + 1000 and + 3000: ${port} + 3000 is not a valid port` }];
  }
  return [];
}

/** Typed settings of a config that `validatePikaSource` accepted. */
export function pikaSourceSettings(config: Record<string, string>): PikaSourceSettings {
  const get = (key: string): string | undefined => config[key] ?? PIKA_SOURCE_KEYS[key]!.default;
  const port = Number(get('pika.port'));
  const cluster = config.cluster!;
  const replicaPort = config['pika.replica.port'];
  const password = config['pika.password'];
  const blockThread = get('snapshot.decode.block.thread');
  return {
    host: config['pika.host']!,
    port,
    password: password === undefined || password === '' ? undefined : password,
    replPort: config['pika.repl.port'] ? Number(config['pika.repl.port']) : port + 2000,
    rsyncPort: config['pika.rsync.port'] ? Number(config['pika.rsync.port']) : port + 10001,
    dbs: config['pika.dbs'] ? config['pika.dbs'].split(',').map((s) => s.trim()) : undefined,
    replicaIp: config['pika.replica.ip'],
    replicaPort: replicaPort === undefined ? undefined : Number(replicaPort),
    syncProtocol: get('sync.protocol') as 'auto' | 'pb' | 'legacy',
    legacyReceiverPort: config['legacy.binlog.receiver.port'] ? Number(config['legacy.binlog.receiver.port']) : undefined,
    legacyListenHost: get('legacy.listen.host')!,
    replicaRsyncPort: config['pika.replica.rsync.port'] === undefined ? undefined : Number(config['pika.replica.rsync.port']),
    replicaRsyncBind: get('pika.replica.rsync.bind')!,
    sourceId: config['source.id']!,
    cluster,
    streamMode: get('stream.mode') as StreamMode,
    topicSnapshot: config['topic.snapshot'] ?? `pika.${cluster}.snapshot`,
    topicBinlog: config['topic.binlog'] ?? `pika.${cluster}.binlog`,
    topicSingle: config['topic.single'] ?? `pika.${cluster}.stream`,
    snapshotMode: get('snapshot.mode') as SnapshotMode,
    snapshotOnGap: get('snapshot.on.gap') as 'fail' | 'resync',
    snapshotDir: config['snapshot.dir'],
    snapshotMaxElementsPerEvent: Number(get('snapshot.max.elements.per.event')),
    snapshotMaxBytesPerEvent: Number(get('snapshot.max.bytes.per.event')),
    snapshotOversizePolicy: get('snapshot.oversize.policy') as 'fail' | 'skip' | 'dlq',
    snapshotFetchBytesPerSecond: Number(get('snapshot.fetch.max.bytes.per.second')),
    snapshotPushTimeoutMs: Number(get('snapshot.push.timeout.ms')),
    snapshotDownloadCleanup: get('snapshot.download.cleanup') === 'true',
    snapshotDecodeThreads: Number(get('snapshot.decode.threads')),
    snapshotDecodeBlockThread: blockThread === 'auto' ? blockThreadByDefault() : blockThread === 'true',
    pollMaxRecords: Number(get('poll.max.records')),
    pingIntervalMs: Number(get('pika.ping.interval.ms')),
    silenceTimeoutMs: Number(get('pika.silence.timeout.ms')),
    spillEnabled: get('spill.enabled') === 'true',
    spillDir: config['spill.dir'],
    spillMaxBytes: Number(get('spill.max.bytes')),
    spillAfterMs: Number(get('spill.after.ms')),
  };
}
