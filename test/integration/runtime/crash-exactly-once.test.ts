import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { bootstrap, uniqueName, readAllCommitted, kcatReadCommitted, type CommittedRecord } from '../../helpers/kafka.ts';
import { WorkerProcess, readCheckpoint, seededRandom, tempDir, writeProperties } from '../../helpers/worker-process.ts';

const STREAMS = 4;
const PER_STREAM = 4000;
const KILLS = 12;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every stream's sequence numbers must be exactly 0..PER_STREAM-1, once each, in order. */
function checkSequences(records: CommittedRecord[], reader: string): void {
  const perStream = new Map<number, number[]>();
  const partitionOf = new Map<number, number>();
  for (const r of records) {
    const { stream, seq } = JSON.parse(r.value!.toString()) as { stream: number; seq: number };
    if (!perStream.has(stream)) perStream.set(stream, []);
    perStream.get(stream)!.push(seq);
    const p = partitionOf.get(stream);
    assert.ok(p === undefined || p === r.partition, `${reader}: stream ${stream} spread over partitions ${p} and ${r.partition}`);
    partitionOf.set(stream, r.partition);
  }
  assert.equal(perStream.size, STREAMS, `${reader}: streams present`);
  for (const [stream, seqs] of perStream) {
    const dupes = seqs.length - new Set(seqs).size;
    assert.equal(dupes, 0, `${reader}: stream ${stream} has ${dupes} duplicates`);
    assert.equal(seqs.length, PER_STREAM, `${reader}: stream ${stream} has ${seqs.length} of ${PER_STREAM} records (lost: ${PER_STREAM - seqs.length})`);
    seqs.forEach((s, i) => assert.equal(s, i, `${reader}: stream ${stream} out of order at position ${i}`));
  }
}

/**
 * Runs the synthetic connector as a child process, SIGKILLs it KILLS times while it produces, lets a last run finish,
 * and returns the topic name; `extra` adds connector settings (e.g. dead-letter routing).
 */
async function crashScenario(extra: Record<string, string | number>): Promise<string> {
  const dir = tempDir('pc-crash-');
  const topic = uniqueName('crash-synthetic');
  const connector = uniqueName('crash');
  const checkpoints = join(dir, 'checkpoints');
  const worker = writeProperties(dir, 'worker.properties', {
    'bootstrap.servers': bootstrap(),
    'offset.storage.topic': uniqueName('crash-offsets'),
    'offset.storage.partitions': 1,
    'offset.checkpoint.dir': checkpoints,
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': 'false',
  });
  const conn = writeProperties(dir, 'connector.properties', {
    name: connector,
    'connector.class': 'io.pika.connect.SyntheticSourceConnector',
    'tasks.max': 2,
    'synthetic.topic': topic,
    'synthetic.streams': STREAMS,
    'synthetic.rate': 400,
    'synthetic.batch.size': 50,
    'synthetic.max.records': PER_STREAM,
    'topic.creation.default.partitions': 3,
    ...extra,
  });
  const random = seededRandom(20261122);
  let killedWhileBehind = 0;
  for (let i = 0; i < KILLS; i++) {
    const w = new WorkerProcess([worker, conn]);
    // Kill only once this incarnation has committed something, at a random moment after that: every kill then
    // lands while records are being produced, whatever the machine's speed.
    const before = progress(checkpoints, connector);
    while (progress(checkpoints, connector) === before) {
      assert.ok(w.child.exitCode === null, `worker exited early; log tail:\n${w.log.slice(-3000)}`);
      await sleep(50);
    }
    await sleep(Math.floor(random() * 1000));
    await w.kill('SIGKILL');
    if (!isComplete(checkpoints, connector)) killedWhileBehind++;
  }
  assert.ok(killedWhileBehind >= 10, `at least 10 kills must land before the sources are done (got ${killedWhileBehind})`);

  const final = new WorkerProcess([worker, conn]);
  const deadline = Date.now() + 240_000;
  while (!isComplete(checkpoints, connector)) {
    assert.ok(Date.now() < deadline, `worker did not finish; log tail:\n${final.log.slice(-3000)}`);
    await sleep(500);
  }
  assert.equal(await final.kill('SIGTERM'), 0, `graceful stop exits 0; log tail:\n${final.log.slice(-3000)}`);
  return topic;
}

test(`SIGKILL of the worker ${KILLS} times while producing loses and duplicates nothing`, { timeout: 600_000 }, async () => {
  const topic = await crashScenario({});
  checkSequences(await readAllCommitted(topic), 'kafkajs read_committed');
  checkSequences(await kcatReadCommitted(topic), 'kcat read_committed');
});

test(`dead-letter records and their offsets are one transaction: ${KILLS} SIGKILLs leave each in the DLQ exactly once`, { timeout: 600_000 }, async () => {
  const dlq = uniqueName('crash-dlq');
  // Every record is over max.request.size, so every record goes to the dead-letter topic (one partition: in order).
  await crashScenario({
    'synthetic.record.bytes': 4500, 'producer.override.max.request.size': 4000, 'topic.creation.default.partitions': 1,
    'errors.tolerance': 'all', 'errors.deadletterqueue.topic.name': dlq,
  });
  checkSequences(await readAllCommitted(dlq), 'kafkajs read_committed (DLQ)');
  checkSequences(await kcatReadCommitted(dlq), 'kcat read_committed (DLQ)');
});

/** Sum of committed sequence numbers over all streams, from the checkpoint files. */
function progress(dir: string, connector: string): number {
  let sum = 0;
  for (const task of [0, 1]) for (const { offset } of readCheckpoint(dir, connector, task)?.offsets ?? []) sum += Number(offset.seq);
  return sum;
}

function isComplete(dir: string, connector: string): boolean {
  let done = 0;
  for (const task of [0, 1]) {
    for (const { offset } of readCheckpoint(dir, connector, task)?.offsets ?? []) {
      if (offset.seq === PER_STREAM - 1) done++;
    }
  }
  return done === STREAMS;
}

test(`transactions of several produce requests (split under the request size) stay atomic through ${KILLS} SIGKILLs`, { timeout: 600_000 }, async () => {
  // ~4.5 kB records with max.request.size=20000: every poll's transaction spans many produce requests.
  const topic = await crashScenario({ 'synthetic.record.bytes': 4500, 'producer.override.max.request.size': 20000, 'topic.creation.default.partitions': 1 });
  checkSequences(await readAllCommitted(topic), 'kafkajs read_committed');
  checkSequences(await kcatReadCommitted(topic), 'kcat read_committed');
});
