// Errors of the runbook cases name their section of docs/troubleshooting.md: (a) every anchor the code can print is a
// heading of the guide (GitHub's slug rules), (b) the concrete failures print it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { docRef, extendMessage, TROUBLESHOOTING_SECTIONS, type TroubleshootingSection } from '../../../../runtime/api/index.ts';
import { explainKafkaError, kafkaErrorSection } from '../../../../runtime/kafka/error-docs.ts';
import { describeKafkaError, KafkaJsClient } from '../../../../runtime/kafka/kafkajs-client.ts';
import { TopicManager } from '../../../../runtime/worker/topic-manager.ts';
import { DeadLetterRouter } from '../../../../runtime/worker/dead-letter.ts';
import { TaskMetrics } from '../../../../runtime/worker/task-metrics.ts';
import { createRootLogger } from '../../../../runtime/util/logger.ts';
import type { KafkaAdmin } from '../../../../runtime/kafka/types.ts';
import { sessionOrGap } from '../../../../connector/pika/replication/handshake.ts';
import { ReplConnection } from '../../../../connector/pika/replication/connection.ts';
import { systemClock, scaledSessionTimings } from '../../../../connector/pika/replication/clock.ts';
import { tcpTransportFactory } from '../../../../connector/pika/rsync/transport.ts';
import { checkFileName } from '../../../../connector/pika/rsync/file-names.ts';
import { RsyncTimeoutError } from '../../../../connector/pika/rsync/errors.ts';
import { FrameDecoder } from '../../../../connector/pika/protocol/frame-decoder.ts';
import { decodeInnerResponse } from '../../../../connector/pika/protocol/messages.ts';
import { decideSyncProtocol } from '../../../../connector/pika/legacy/protocol-detect.ts';
import { PikaSourceTask } from '../../../../connector/pika/source/pika-source-task.ts';
import { startPikaMaster } from '../../../pika-master/index.ts';
import { fakeContext } from '../../connector/pika/source/task-helpers.ts';
import { SCALE, waitFor } from '../../connector/pika/replication/session-helpers.ts';

// kafkajs is CommonJS: its error classes are not visible as named ESM exports.
const { KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } = kafkajs;

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const GUIDE = readFileSync(join(ROOT, 'docs/troubleshooting.md'), 'utf8');

/** GitHub's heading anchors: markup stripped, lower case, punctuation removed, spaces → hyphens, -1/-2 for repeats. */
function githubAnchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1]!.replace(/`([^`]*)`/g, '$1').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[*_]{1,2}([^*_]+)[*_]{1,2}/g, '$1');
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const anchors = githubAnchors(GUIDE);
const mentions = (section: TroubleshootingSection) => new RegExp(`\\(see docs/troubleshooting\\.md#${TROUBLESHOOTING_SECTIONS[section]}\\)`);

test('the slug rules give GitHub\'s anchors', () => {
  assert.deepEqual([...githubAnchors('# A `b` / C (+2000, +10001)\n## x\n## x\n```\n# not a heading\n```')], ['a-b--c-2000-10001', 'x', 'x-1']);
});

test('(a) every section the code can point to is a heading of docs/troubleshooting.md, and so is every literal pointer in the sources', () => {
  for (const [key, anchor] of Object.entries(TROUBLESHOOTING_SECTIONS)) assert.ok(anchors.has(anchor), `${key}: #${anchor} is not a heading (headings: ${[...anchors].join(', ')})`);
  for (const file of ['runtime', 'connector', 'bin'].flatMap((d) => sourceFiles(join(ROOT, d)))) {
    for (const [, anchor] of readFileSync(file, 'utf8').matchAll(/troubleshooting\.md#([A-Za-z0-9_-]+)/g)) {
      assert.ok(anchors.has(anchor!), `${file} points to #${anchor}, which is not a heading of docs/troubleshooting.md`);
    }
  }
  assert.equal(docRef('trySync'), '(see docs/troubleshooting.md#trysync-codes-2-and-3)');
  assert.equal(extendMessage(`gap ${docRef('trySync')}`, '. the task stops'), `gap. the task stops ${docRef('trySync')}`);
});

test('(b) TrySync codes 2, 3 and 4 fail with the TrySync section', () => {
  const from = { filenum: 3, offset: 100 };
  for (const code of [2, 3, 4]) {
    assert.throws(() => sessionOrGap('db0', from, { code, master: { filenum: 1, offset: 0 }, sessionId: undefined }), (e: Error) => mentions('trySync').test(e.message));
  }
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('(b) a refused replication or rsync port names the ports section (+2000 / +10001)', async () => {
  const port = await closedPort();
  await assert.rejects(ReplConnection.open('127.0.0.1', port, systemClock, 5_000), (e: Error) => /ECONNREFUSED/.test(e.message) && mentions('ports').test(e.message));
  await assert.rejects(tcpTransportFactory('127.0.0.1', port)(), (e: Error) => /ECONNREFUSED/.test(e.message) && mentions('ports').test(e.message));
  assert.throws(() => decideSyncProtocol('auto', { masterHost: 'h', masterPort: 9221, pbPort: { kind: 'unreachable', detail: 'timed out' } }), (e: Error) => mentions('ports').test(e.message));
});

test('(b) legacy vs PB and protocol mismatches name their sections', () => {
  assert.throws(() => decideSyncProtocol('pb', { masterHost: 'h', masterPort: 9221, pbPort: { kind: 'refused' } }), (e: Error) => mentions('legacyVsPb').test(e.message));
  assert.throws(() => decideSyncProtocol('auto', { masterHost: 'h', masterPort: 9221, trysyncError: "ERR unknown or unsupported command 'trysync'" }), (e: Error) => mentions('legacyVsPb').test(e.message));
  // An HTTP server on port+2000: its reply read as a frame length prefix.
  assert.throws(() => new FrameDecoder().push(Buffer.from('HTTP/1.1 400 Bad Request\r\n')), (e: Error) => /PIKA_FRAME_TOO_LARGE|exceeds the limit/.test(`${(e as { code?: string }).code} ${e.message}`) && mentions('protocolMismatch').test(e.message));
  assert.throws(() => decodeInnerResponse(Buffer.from('-ERR unknown command\r\n')), (e: Error) => mentions('protocolMismatch').test(e.message));
});

test('(b) rsync2 dump problems name the dump-directory section', () => {
  assert.throws(() => checkFileName('../../etc/passwd', 'db0'), (e: Error) => mentions('rsyncDump').test(e.message));
  assert.match(new RsyncTimeoutError('meta request', 1000).message, mentions('rsyncDump'));
});

test('(b) message too large, coordinator loading and unknown topic from the broker name their sections; other errors pass unchanged', () => {
  const broker = (type: string, message: string, retriable: boolean) => new KafkaJSProtocolError({ type, message, code: 0, retriable } as never);
  const tooLarge = new KafkaJSNonRetriableError(broker('MESSAGE_TOO_LARGE', 'The request included a message larger than the max message size the server will accept', false));
  Object.assign(tooLarge, { cause: broker('MESSAGE_TOO_LARGE', 'The request included a message larger than the max message size the server will accept', false) });
  const explained = explainKafkaError(tooLarge, 'sending 3 record(s)', describeKafkaError) as Error & { code: string };
  assert.match(explained.message, mentions('sizeLimits'));
  assert.equal(explained.code, 'KAFKA_MESSAGE_TOO_LARGE');
  assert.equal(kafkaErrorSection({ message: 'Broker: Invalid message' }), 'sizeLimits');

  const loading = new KafkaJSNumberOfRetriesExceeded(broker('COORDINATOR_LOAD_IN_PROGRESS', "The coordinator is loading and hence can't process requests", true), { retryCount: 5, retryTime: 1000 } as never);
  Object.assign(loading, { cause: broker('COORDINATOR_LOAD_IN_PROGRESS', "The coordinator is loading and hence can't process requests", true) });
  assert.match((explainKafkaError(loading, 'committing', describeKafkaError) as Error).message, mentions('coordinatorLoad'));

  const unknown = broker('UNKNOWN_TOPIC_OR_PARTITION', 'This server does not host this topic-partition', true);
  const unknownExplained = explainKafkaError(unknown, 'sending', describeKafkaError) as Error & { retriable: boolean };
  assert.match(unknownExplained.message, mentions('topics'));
  assert.equal(unknownExplained.retriable, true);

  const fenced = broker('PRODUCER_FENCED', 'fenced', false);
  assert.equal(explainKafkaError(fenced, 'committing', describeKafkaError), fenced);
});

test('(b) a kafkajs warning about a loading coordinator ends with the section', () => {
  const lines: string[] = [];
  const logger = { debug() {}, info() {}, error() {}, warn: (msg: string) => { lines.push(msg); } };
  const client = new KafkaJsClient({ brokers: ['127.0.0.1:1'], clientId: 't', logger });
  const kafka = (client as unknown as { kafka: { logger(): { warn(msg: string, extra?: object): void } } }).kafka;
  kafka.logger().warn('Response Heartbeat', { error: "The coordinator is loading and hence can't process requests" });
  assert.match(lines.at(-1)!, mentions('coordinatorLoad'));
});

test('(b) a missing topic with topic creation off names the missing-topics section', async () => {
  const admin = { existingTopics: async () => new Set<string>() } as unknown as KafkaAdmin;
  const topics = new TopicManager(async () => admin, { enabled: false, groups: [] });
  await assert.rejects(topics.ensure(['pika.c1.binlog']), (e: Error) => /TOPIC_MISSING/.test((e as { code?: string }).code ?? '') && mentions('topics').test(e.message));
});

test('(b) a record over max.request.size with errors.tolerance=none names the size-limits section', () => {
  const router = new DeadLetterRouter({ tolerance: 'none', contextHeaders: false, logErrors: false, maxRecordBytes: 100 }, { connector: 'c', task: 0 }, createRootLogger('error'), new TaskMetrics());
  const reason = router.oversize(Buffer.alloc(10), Buffer.alloc(200))!;
  assert.throws(() => router.route({ sourcePartition: {}, sourceOffset: {}, topic: 't', key: null, value: 'v' }, 'produce', reason), (e: Error) => /max\.request\.size/.test(e.message) && mentions('sizeLimits').test(e.message));
});

test('(b) a Kafka host that does not resolve (advertised listener) names the listeners section', { timeout: 60_000 }, async () => {
  const client = new KafkaJsClient({ brokers: ['no-such-broker.invalid:9092'], clientId: 't', logger: { debug() {}, info() {}, warn() {}, error() {} }, connectTimeoutMs: 1_000 });
  await assert.rejects(client.admin(), (e: Error) => /ENOTFOUND|EAI_AGAIN|getaddrinfo/.test(describeKafkaError(e)) && mentions('listeners').test(e.message));
});

test('(b) on the test master: an offset beyond the binlog fails with TrySync code 3 and its section; no offset with snapshot.mode=initial logs the forced-offsets section', { timeout: 60_000 }, async () => {
  const m = await startPikaMaster({ timeScale: SCALE });
  const config = (extra: Record<string, string>) => ({
    'pika.host': '127.0.0.1', 'pika.port': String(m.ports.resp), 'pika.repl.port': String(m.ports.repl), 'source.id': 'src1', cluster: 'c1', ...extra,
  });
  try {
    m.exec(0, ['SET', 'a', '1']);
    const ahead = { filenum: m.binlogPosition(0).filenum + 5, offset: 0, logic_id: 0, term: 0, replication_id: m.core.replicationId };
    const ctx = fakeContext([{ partition: { source_id: 'src1', db: 0 }, offset: ahead }], 'docref-gap');
    const task = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
    try {
      await task.start(config({ 'snapshot.mode': 'never', 'snapshot.on.gap': 'fail' }), ctx);
      const deadline = Date.now() + 30_000;
      await assert.rejects(async () => { while (Date.now() < deadline) await task.poll(); }, (e: Error) => /PIKA_GAP_LARGER/.test((e as { code?: string }).code ?? '') && mentions('trySync').test(e.message) && e.message.endsWith(docRef('trySync')));
    } finally {
      await task.stop();
    }

    const dumps = mkdtempSync(join(tmpdir(), 'pc-docref-'));
    const fresh = fakeContext([], 'docref-initial');
    const initial = new PikaSourceTask({ timings: scaledSessionTimings(SCALE) });
    try {
      await initial.start(config({ 'snapshot.mode': 'initial', 'pika.rsync.port': String(m.ports.rsync), 'snapshot.dir': dumps }), fresh);
      await waitFor(() => fresh.log.some((l) => /no committed offset: full sync first/.test(l.msg)), 'the full-sync decision');
      assert.match(fresh.log.find((l) => /no committed offset/.test(l.msg))!.msg, mentions('forcedOffsets'));
    } finally {
      await initial.stop();
      rmSync(dumps, { recursive: true, force: true });
    }
  } finally {
    await m.stop();
  }
});
