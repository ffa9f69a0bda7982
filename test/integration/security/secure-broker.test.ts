// The worker against a real broker with TLS and SASL listeners (scripts/kafka-secure.sh, started and stopped here;
// the plain broker of KAFKA_BOOTSTRAP is not used). Each security.protocol / sasl.mechanism delivers a synthetic
// source exactly once; a wrong password and an untrusted broker certificate fail fast with the cause named.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseConnectorProps, parseWorkerProps } from '../../../runtime/config/index.ts';
import { bundledPlugins } from '../../../runtime/bundled-plugins.ts';
import { createRootLogger } from '../../../runtime/util/logger.ts';
import { Worker } from '../../../runtime/worker/worker.ts';
import { KafkaJsClient } from '../../../runtime/kafka/kafkajs-client.ts';
import { kafkaSecurity } from '../../../runtime/kafka/security.ts';
import { uniqueName } from '../../helpers/kafka.ts';
import { WorkerProcess, readCheckpoint, tempDir, writeProperties } from '../../helpers/worker-process.ts';

const execFileAsync = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../../../scripts/kafka-secure.sh', import.meta.url));
const USER = 'connect';
const PASSWORD = 'connect-secret-7f3a';
const STREAMS = 2;
const PER_STREAM = 150;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function missingTools(): string | undefined {
  for (const tool of ['java', 'openssl', 'keytool']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed`;
    }
  }
  return undefined;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first of 5 consecutive free loopback ports, starting at a spot that depends on the pid (parallel runs). */
async function freePortBlock(): Promise<number> {
  for (let base = 39_000 + (process.pid % 200) * 5; base < 60_000; base += 5) {
    let all = true;
    for (let p = base; p < base + 5 && all; p++) all = await portFree(p);
    if (all) return base;
  }
  throw new Error('no block of 5 free ports between 39000 and 60000');
}

interface Broker { ssl: string; saslPlaintext: string; saslSsl: string; certs: string }

const skip = missingTools();
const env = { ...process.env, KAFKA_SECURE_NAME: `test-${process.pid}`, KAFKA_SECURE_PASSWORD: PASSWORD };
let broker: Broker;

const jaas = (mechanism: string, password = PASSWORD) => (mechanism === 'PLAIN'
  ? `org.apache.kafka.common.security.plain.PlainLoginModule required username="${USER}" password="${password}";`
  : `org.apache.kafka.common.security.scram.ScramLoginModule required username="${USER}" password="${password}";`);

function workerProps(bootstrap: string, security: Record<string, string>): Record<string, string> {
  return {
    'bootstrap.servers': bootstrap,
    'offset.storage.topic': uniqueName('sec-offsets'),
    'offset.storage.partitions': '1',
    'offset.checkpoint.dir': tempDir('pc-sec-'),
    'offset.flush.interval.ms': '500',
    'value.converter.schemas.enable': 'false',
    ...security,
  };
}

/** Runs a synthetic source to completion through `security` and checks every record arrived once, in order. */
async function deliversExactlyOnce(bootstrap: string, security: Record<string, string>): Promise<void> {
  const plugins = bundledPlugins();
  const worker = parseWorkerProps(workerProps(bootstrap, security));
  const topic = uniqueName('sec-synthetic');
  const connector = parseConnectorProps({
    name: uniqueName('sec'), 'connector.class': 'synthetic', 'synthetic.topic': topic,
    'synthetic.streams': String(STREAMS), 'synthetic.max.records': String(PER_STREAM), 'synthetic.batch.size': '40',
  }, (cls) => plugins.connector(cls));
  const w = new Worker(worker, plugins, createRootLogger('error'));
  await w.start([connector]);
  try {
    const deadline = Date.now() + 90_000;
    const runner = () => w.connector(connector.name)!;
    const committed = () => runner().taskMetrics().reduce((n, t) => n + t.metrics.recordsCommitted, 0);
    while (committed() < STREAMS * PER_STREAM) {
      // A failed task is restarted by the worker (e.g. a leader not yet elected for a new topic); only time bounds it.
      const task = runner().status().tasks[0];
      assert.ok(Date.now() < deadline, `timed out with ${committed()} of ${STREAMS * PER_STREAM} records committed; task ${task?.state}: ${task?.trace ?? ''}`);
      await sleep(200);
    }
  } finally {
    await w.stop();
  }
  // Read back through the same secured listener.
  const reader = new KafkaJsClient({ brokers: [bootstrap], clientId: 'sec-reader', logger: createRootLogger('error'), security: kafkaSecurity(worker.securityProps) });
  const records = await reader.readCommitted(topic, { timeoutMs: 60_000 });
  const seqs = new Map<number, number[]>();
  for (const r of records) {
    const { stream, seq } = JSON.parse(r.value!.toString()) as { stream: number; seq: number };
    seqs.set(stream, [...(seqs.get(stream) ?? []), seq]);
  }
  assert.equal(seqs.size, STREAMS, 'every stream arrived');
  for (const [stream, list] of seqs) {
    assert.deepEqual(list, Array.from({ length: PER_STREAM }, (_, i) => i), `stream ${stream}: each record exactly once, in order`);
  }
}

/** Starting a worker must fail within the test's timeout, with a message matching `expected` and no secret in it. */
async function startFails(bootstrap: string, security: Record<string, string>, expected: RegExp, code: string): Promise<void> {
  const w = new Worker(parseWorkerProps(workerProps(bootstrap, security)), bundledPlugins(), createRootLogger('error'));
  try {
    await assert.rejects(w.start([]), (error: Error & { code?: string }) => {
      assert.match(error.message, expected);
      assert.equal(error.code, code);
      for (const secret of [PASSWORD, 'wrong-password-93', 'client-key-secret']) {
        assert.ok(!error.message.includes(secret), 'the error message holds no password');
      }
      return true;
    });
  } finally {
    await w.stop().catch(() => undefined);
  }
}

describe('Kafka security (TLS, SASL PLAIN and SCRAM) against a real broker', { skip: skip && `skipped: ${skip}`, timeout: 300_000 }, () => {
  before(async () => {
    const port = await freePortBlock();
    const { stdout } = await execFileAsync('bash', [SCRIPT, 'start'], {
      cwd: REPO, env: { ...env, KAFKA_SECURE_PORT: String(port) }, timeout: 200_000,
    });
    const out = Object.fromEntries(stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    broker = { ssl: out.KAFKA_SECURE_SSL!, saslPlaintext: out.KAFKA_SECURE_SASL_PLAINTEXT!, saslSsl: out.KAFKA_SECURE_SASL_SSL!, certs: out.KAFKA_SECURE_CERTS! };
    assert.ok(broker.ssl && broker.saslSsl && broker.certs, `kafka-secure.sh printed: ${stdout}`);
  });

  after(async () => {
    await execFileAsync('bash', [SCRIPT, 'stop'], { cwd: REPO, env, timeout: 60_000 }).catch(() => undefined);
    rmSync(`${REPO}.cache/kafka-secure/${env.KAFKA_SECURE_NAME}`, { recursive: true, force: true });
  });

  test('SSL with a client certificate (encrypted PEM key) delivers exactly once', async () => {
    await deliversExactlyOnce(broker.ssl, {
      'security.protocol': 'SSL',
      'ssl.truststore.location': `${broker.certs}/ca.pem`,
      'ssl.truststore.type': 'PEM',
      'ssl.keystore.location': `${broker.certs}/client-keystore.pem`,
      'ssl.keystore.type': 'PEM',
      'ssl.key.password': readFileSync(`${broker.certs}/client-key.password`, 'utf8'),
    });
  });

  test('SASL_PLAINTEXT with PLAIN delivers exactly once', async () => {
    await deliversExactlyOnce(broker.saslPlaintext, {
      'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN', 'sasl.jaas.config': jaas('PLAIN'),
    });
  });

  test('SASL_PLAINTEXT with SCRAM-SHA-256 delivers exactly once', async () => {
    await deliversExactlyOnce(broker.saslPlaintext, {
      'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'SCRAM-SHA-256', 'sasl.jaas.config': jaas('SCRAM-SHA-256'),
    });
  });

  test('SASL_SSL with SCRAM-SHA-512 and the CA given inline delivers exactly once', async () => {
    await deliversExactlyOnce(broker.saslSsl, {
      'security.protocol': 'SASL_SSL',
      'ssl.truststore.certificates': readFileSync(`${broker.certs}/ca.pem`, 'utf8'),
      'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.jaas.config': jaas('SCRAM-SHA-512'),
    });
  });

  test('SASL_SSL with PLAIN delivers exactly once', async () => {
    await deliversExactlyOnce(broker.saslSsl, {
      'security.protocol': 'SASL_SSL', 'ssl.truststore.location': `${broker.certs}/ca.pem`,
      'sasl.mechanism': 'PLAIN', 'sasl.jaas.config': jaas('PLAIN'),
    });
  });

  test('the worker CLI runs from .properties files over SASL_SSL with a client certificate, and its debug log holds no secret', async () => {
    const dir = tempDir('pc-sec-cli-');
    const connector = uniqueName('sec-cli');
    const keyPassword = readFileSync(`${broker.certs}/client-key.password`, 'utf8');
    const worker = writeProperties(dir, 'worker.properties', {
      ...workerProps(broker.saslSsl, {
        'security.protocol': 'SASL_SSL',
        'ssl.truststore.location': `${broker.certs}/ca.pem`,
        'ssl.keystore.location': `${broker.certs}/client-keystore.pem`,
        'ssl.key.password': keyPassword,
        'sasl.mechanism': 'SCRAM-SHA-256',
        'sasl.jaas.config': jaas('SCRAM-SHA-256'),
      }),
      'offset.checkpoint.dir': join(dir, 'checkpoints'),
      listeners: 'http://127.0.0.1:0',
    });
    const conn = writeProperties(dir, 'connector.properties', {
      name: connector, 'connector.class': 'synthetic', 'synthetic.topic': uniqueName('sec-cli'),
      'synthetic.streams': 1, 'synthetic.max.records': PER_STREAM,
    });
    const w = new WorkerProcess([worker, conn], { PIKA_CONNECT_LOG_LEVEL: 'debug' });
    const deadline = Date.now() + 90_000;
    while (readCheckpoint(join(dir, 'checkpoints'), connector, 0)?.offsets[0]?.offset.seq !== PER_STREAM - 1) {
      assert.ok(w.child.exitCode === null, `worker exited; log tail:\n${w.log.slice(-3000)}`);
      assert.ok(Date.now() < deadline, `worker did not finish; log tail:\n${w.log.slice(-3000)}`);
      await sleep(200);
    }
    assert.equal(await w.kill('SIGTERM'), 0, `graceful stop; log tail:\n${w.log.slice(-3000)}`);
    assert.match(w.log, /Kafka connection security: SASL_SSL, SCRAM-SHA-256 as user connect, TLS trusting the configured CA certificate\(s\), with a client certificate/);
    for (const secret of [PASSWORD, keyPassword, 'PRIVATE KEY']) assert.ok(!w.log.includes(secret), `the log holds a secret (${secret.slice(0, 3)}…)`);
  });

  test('a wrong SCRAM password fails the start with the login refusal named, without the password', async () => {
    await startFails(broker.saslPlaintext, {
      'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'SCRAM-SHA-256', 'sasl.jaas.config': jaas('SCRAM-SHA-256', 'wrong-password-93'),
    }, /refused the SASL login \(SCRAM-SHA-256 as user connect\).*sasl\.jaas\.config/, 'KAFKA_AUTHENTICATION');
  });

  test('a broker certificate from an untrusted CA fails the start with the TLS cause named', async () => {
    await startFails(broker.saslSsl, {
      'security.protocol': 'SASL_SSL', 'ssl.truststore.location': `${broker.certs}/other-ca.pem`,
      'sasl.mechanism': 'PLAIN', 'sasl.jaas.config': jaas('PLAIN'),
    }, /certificate of Kafka at .* is not trusted: .*self[- ]signed certificate.*ssl\.truststore\.location/, 'KAFKA_TLS');
  });

  test('the SSL listener refuses a client without a certificate, and says to configure one', async () => {
    await startFails(broker.ssl, {
      'security.protocol': 'SSL', 'ssl.truststore.location': `${broker.certs}/ca.pem`,
    }, /refused this client's certificate.*ssl\.keystore\.location/, 'KAFKA_TLS');
  });
});
