// Helpers for integration tests against the real broker started by scripts/test.sh (env KAFKA_BOOTSTRAP).
// Three independent readers of committed data: kafkajs (readAllCommitted), kcat/librdkafka (kcatReadCommitted)
// and the shared python librdkafka auditor (auditTopic).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Admin, type IHeaders, type Producer } from 'kafkajs';

const execFileAsync = promisify(execFile);

/** One committed record, as every reader here returns it (sorted by partition, then offset). */
export interface CommittedRecord {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** In record order; a header written twice appears twice. */
  headers: Array<{ key: string; value: Buffer | null }>;
}

/** The broker list from env KAFKA_BOOTSTRAP (comma-separated host:port). */
export function bootstrap(): string {
  const value = process.env.KAFKA_BOOTSTRAP?.trim();
  if (!value) {
    throw new Error(
      'KAFKA_BOOTSTRAP is not set: integration tests need a real broker. Run them with `bash scripts/test.sh`, '
        + 'or start one with `scripts/kafka.sh start` and export the KAFKA_BOOTSTRAP it prints.',
    );
  }
  return value;
}

const LOG_LEVELS: Record<string, logLevel> = {
  nothing: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG,
};

/** A kafkajs client for the test broker; silent unless env KAFKAJS_LOG_LEVEL (error|warn|info|debug) says otherwise. */
export function kafkaClient(clientId = 'pika-connect-test'): Kafka {
  const level = LOG_LEVELS[process.env.KAFKAJS_LOG_LEVEL ?? 'nothing'] ?? logLevel.NOTHING;
  return new Kafka({ clientId, brokers: bootstrap().split(','), logLevel: level });
}

/** A topic/group/transactional-id name no other test run uses: `<prefix>-<time>-<random>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** `readUncommitted`: fetchTopicOffsets returns high watermarks instead of last stable offsets (kafkajs patch). */
async function withAdmin<T>(work: (admin: Admin) => Promise<T>, options: { readUncommitted?: boolean } = {}): Promise<T> {
  const admin = kafkaClient('pika-connect-test-admin').admin(options);
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates a topic and waits for its leaders. The replication factor is the broker's default.replication.factor
 * (1 on the single test broker, 3 on the 3-node cluster) unless given.
 * Throws when the topic already exists (test names should come from uniqueName).
 */
export async function createTopic(
  name: string,
  partitions = 1,
  configs: Record<string, string> = {},
  options: { replicationFactor?: number } = {},
): Promise<void> {
  await withAdmin(async (admin) => {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [{
        topic: name,
        numPartitions: partitions,
        ...(options.replicationFactor === undefined ? {} : { replicationFactor: options.replicationFactor }),
        configEntries: Object.entries(configs).map(([configName, value]) => ({ name: configName, value })),
      }],
    });
    if (!created) throw new Error(`topic ${name} already exists`);
  });
}

/** A transactional, idempotent producer with the settings kafkajs needs to be safe (one request in flight). */
export function transactionalProducer(transactionalId: string): Producer {
  return kafkaClient('pika-connect-test-producer').producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
  });
}

function toBuffer(value: Buffer | string | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null;
  return Buffer.isBuffer(value) ? value : Buffer.from(value);
}

function flattenHeaders(headers: IHeaders | undefined): CommittedRecord['headers'] {
  const out: CommittedRecord['headers'] = [];
  for (const [key, value] of Object.entries(headers ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) out.push({ key, value: toBuffer(item) });
  }
  return out;
}

function byPartitionThenOffset(a: CommittedRecord, b: CommittedRecord): number {
  return a.partition - b.partition || a.offset - b.offset;
}

/** Per partition, the high watermark (end of the log including open and aborted transactions). */
export async function highWatermarks(topic: string): Promise<Map<number, number>> {
  const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(topic), { readUncommitted: true });
  return new Map(offsets.map((p) => [p.partition, Number(p.high)]));
}

export interface ReadOptions {
  /**
   * commit() returns before the broker has written the commit markers, so right after a commit the last stable
   * offset can still be behind the high watermark. Wait up to this long for them to meet; when a transaction
   * stays open longer, read up to the last stable offset. Use 0 to read what is committed right now.
   */
  settleMs?: number;
  /** Give up (with an error naming the unfinished partitions) after this long. */
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Per partition: [logStart, end) where end is the last stable offset. Settled means the last stable offset reached
 * the high watermark read just before it, i.e. everything written before this call is decided (committed/aborted).
 */
async function committedRanges(topic: string, settleMs: number): Promise<Map<number, { start: number; end: number }>> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const high = settleMs > 0 ? await highWatermarks(topic) : new Map<number, number>();
    const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(topic));
    const settled = offsets.every(({ partition, high: lso }) => (high.get(partition) ?? 0) <= Number(lso));
    if (settled || Date.now() >= deadline) {
      return new Map(offsets.map(({ partition, high: lso, low }) => [partition, { start: Number(low), end: Number(lso) }]));
    }
    await sleep(100);
  }
}

/**
 * Reads every committed record of `topic` with kafkajs (isolation read_committed), from the log start to the end
 * offsets seen at call time (see ReadOptions.settleMs). A partition is finished when the consumer's position passed
 * its end offset — transactional partitions end with control markers that are never delivered as messages, so
 * "last message seen" would wait forever.
 */
export async function readAllCommitted(topic: string, options: ReadOptions = {}): Promise<CommittedRecord[]> {
  const { settleMs = 10_000, timeoutMs = 60_000 } = options;
  const ranges = await committedRanges(topic, settleMs);
  const pending = new Map<number, number>();
  for (const [partition, { start, end }] of ranges) {
    if (end > start) pending.set(partition, end);
  }
  if (pending.size === 0) return [];

  const records: CommittedRecord[] = [];
  const consumer = kafkaClient('pika-connect-test-reader').consumer({
    groupId: uniqueName('read-committed'),
    readUncommitted: false,
    maxWaitTimeInMs: 250,
  });
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => { finish = resolve; fail = reject; });
  const reached = (partition: number, nextOffset: number) => {
    const end = pending.get(partition);
    if (end !== undefined && nextOffset >= end) pending.delete(partition);
    if (pending.size === 0) finish();
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === topic && payload.lastOffset !== null) reached(payload.partition, Number(payload.lastOffset) + 1);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));
  const timer = setTimeout(() => {
    const left = [...pending].map(([p, end]) => `partition ${p} (end ${end})`).join(', ');
    fail(new Error(`readAllCommitted(${topic}): not finished after ${timeoutMs} ms: ${left}`));
  }, timeoutMs);
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset);
        const range = ranges.get(partition);
        if (range && offset < range.end) {
          records.push({
            partition,
            offset,
            key: toBuffer(message.key),
            value: toBuffer(message.value),
            headers: flattenHeaders(message.headers),
          });
        }
        reached(partition, offset + 1);
      },
    });
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return records.sort(byPartitionThenOffset);
}

// kcat prints, per record: "<partition> <offset> <keyLength> <valueLength> <headers>\n<key bytes><value bytes>\n".
// Lengths are -1 for null; the lengths make keys and values binary-safe. Headers come as kcat's "k=v,k=v" text, so
// header keys/values containing ',', '=' or a newline cannot be told apart here.
const KCAT_FORMAT = '%p %o %K %S %h\n%k%s\n';

function parseKcatHeaders(text: string): CommittedRecord['headers'] {
  if (text === '') return [];
  return text.split(',').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new Error(`kcat header without '=': ${JSON.stringify(pair)}`);
    return { key: pair.slice(0, eq), value: Buffer.from(pair.slice(eq + 1)) };
  });
}

export function parseKcatOutput(out: Buffer): CommittedRecord[] {
  const records: CommittedRecord[] = [];
  let pos = 0;
  while (pos < out.length) {
    const lineEnd = out.indexOf(0x0a, pos);
    if (lineEnd < 0) throw new Error(`kcat output truncated at byte ${pos}`);
    const line = out.subarray(pos, lineEnd).toString('utf8');
    const match = /^(\d+) (\d+) (-1|\d+) (-1|\d+) ?(.*)$/.exec(line);
    if (!match) throw new Error(`unexpected kcat record line: ${JSON.stringify(line)}`);
    const [, partition, offset, keyLength, valueLength, headers] = match;
    pos = lineEnd + 1;
    const take = (length: number): Buffer | null => {
      if (length < 0) return null;
      if (pos + length > out.length) throw new Error(`kcat output truncated in record ${partition}/${offset}`);
      const bytes = Buffer.from(out.subarray(pos, pos + length));
      pos += length;
      return bytes;
    };
    const key = take(Number(keyLength));
    const value = take(Number(valueLength));
    if (out[pos] !== 0x0a) throw new Error(`kcat record ${partition}/${offset} not followed by a newline`);
    pos += 1;
    records.push({
      partition: Number(partition),
      offset: Number(offset),
      key,
      value,
      headers: parseKcatHeaders(headers ?? ''),
    });
  }
  return records;
}

/** Same as readAllCommitted, read by kcat (librdkafka) instead of kafkajs: an independent client check. */
export async function kcatReadCommitted(topic: string, options: ReadOptions = {}): Promise<CommittedRecord[]> {
  const { settleMs = 10_000, timeoutMs = 60_000 } = options;
  // kcat stops at the last stable offset; give commit markers the same time to land as readAllCommitted does.
  // Records beyond the ends seen here (written meanwhile) are dropped, as readAllCommitted does.
  const ranges = await committedRanges(topic, settleMs);
  const args = ['-C', '-b', bootstrap(), '-t', topic, '-o', 'beginning', '-e', '-q',
    '-X', 'isolation.level=read_committed', '-f', KCAT_FORMAT];
  let stdout: Buffer;
  try {
    ({ stdout } = await execFileAsync('kcat', args, { encoding: 'buffer', timeout: timeoutMs, maxBuffer: 256 << 20 }));
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('kcat is not installed: run `bash scripts/setup.sh`');
    throw new Error(`kcat failed on topic ${topic}: ${e.message} ${e.stderr?.toString() ?? ''}`);
  }
  return parseKcatOutput(stdout)
    .filter((r) => r.offset < (ranges.get(r.partition)?.end ?? 0))
    .sort(byPartitionThenOffset);
}

/** The JSON summary printed by ../shared/tools/topic_audit.py, plus whether it exited 0. */
export interface AuditResult {
  ok: boolean;
  records: number;
  partitions: Record<string, number>;
  invalid: number;
  duplicates: number;
  order_breaks: number;
  unread: number;
}

export interface AuditOptions {
  /** Field path of the unique id in the JSON value (default event_id). */
  id?: string;
  /** Field paths whose tuple must not decrease per key. */
  order?: string[];
  isolation?: 'read_committed' | 'read_uncommitted';
  /** Write every record as a JSON line to this file. */
  dump?: string;
  timeoutMs?: number;
}

const AUDIT_SCRIPT = fileURLToPath(new URL('../../../shared/tools/topic_audit.py', import.meta.url));
let auditPython: Promise<string> | undefined;

/** The first python with confluent_kafka: $AUDIT_PYTHON, python3 (may be a pyenv shim), then Debian's. */
function findAuditPython(): Promise<string> {
  auditPython ??= (async () => {
    const candidates = [process.env.AUDIT_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
    for (const python of candidates) {
      try {
        await execFileAsync(python, ['-c', 'import confluent_kafka']);
        return python;
      } catch {
        // try the next one
      }
    }
    throw new Error(`no python with confluent_kafka among ${candidates.join(', ')}: run \`bash scripts/setup.sh\``);
  })();
  return auditPython;
}

/** Runs the librdkafka auditor over committed records of the topics; `ok` is false on any finding. */
export async function auditTopic(topics: string[], options: AuditOptions = {}): Promise<AuditResult> {
  const python = await findAuditPython();
  const args = [AUDIT_SCRIPT, '--bootstrap', bootstrap()];
  for (const topic of topics) args.push('--topic', topic);
  if (options.id) args.push('--id', options.id);
  if (options.order?.length) args.push('--order', options.order.join(','));
  if (options.isolation) args.push('--isolation', options.isolation);
  if (options.dump) args.push('--dump', options.dump);
  let stdout: string;
  let exitCode = 0;
  try {
    ({ stdout } = await execFileAsync(python, args, { timeout: options.timeoutMs ?? 120_000 }));
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== 'number' || !e.stdout) {
      throw new Error(`topic_audit.py failed: ${e.message} ${e.stderr ?? ''}`);
    }
    exitCode = e.code;
    stdout = e.stdout;
  }
  const lastLine = stdout.trim().split('\n').at(-1) ?? '';
  const summary = JSON.parse(lastLine) as Omit<AuditResult, 'ok'>;
  return { ok: exitCode === 0, ...summary };
}
