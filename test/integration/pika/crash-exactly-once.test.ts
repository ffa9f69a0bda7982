// SIGKILL of the worker (Pika connector) at random moments during a steady write load on the test master: afterwards
// every written command is in Kafka exactly once (read_committed), in order per key, and the master never had to
// close the replication connection (an ack outside its window, or any malformed request, would make it do so).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPikaMaster } from '../../pika-master/index.ts';
import { kcatReadCommitted, readAllCommitted, type CommittedRecord } from '../../helpers/kafka.ts';
import { seededRandom } from '../../helpers/worker-process.ts';
import type { PikaEvent } from '../../../connector/pika/events/event.ts';
import { committedPositions, pikaRun, sleep, waitCaughtUp, waitStreaming } from './pika-harness.ts';

const KILLS = 10;
const KEYS = 20;
const WRITES_PER_TICK = 10;
const TICK_MS = 20;

function check(records: CommittedRecord[], written: number, reader: string): void {
  const seqs = new Map<number, number>();
  const perKey = new Map<string, { partition: number; values: number[] }>();
  for (const r of records) {
    const event = JSON.parse(r.value!.toString()) as PikaEvent;
    assert.equal(event.op, 'set');
    const seq = Number(Buffer.from(event.args_b64[1]!, 'base64').toString());
    seqs.set(seq, (seqs.get(seq) ?? 0) + 1);
    const key = `${event.db}:${event.key}`;
    const entry = perKey.get(key) ?? { partition: r.partition, values: [] };
    assert.equal(entry.partition, r.partition, `${reader}: key ${key} on one partition`);
    entry.values.push(seq);
    perKey.set(key, entry);
  }
  const dupes = [...seqs].filter(([, n]) => n > 1).map(([s]) => s);
  assert.deepEqual(dupes.slice(0, 10), [], `${reader}: duplicates (${dupes.length})`);
  const missing: number[] = [];
  for (let s = 0; s < written; s++) if (!seqs.has(s)) missing.push(s);
  assert.deepEqual(missing.slice(0, 10), [], `${reader}: lost writes (${missing.length} of ${written})`);
  assert.equal(seqs.size, written, `${reader}: nothing unexpected`);
  for (const [key, { values }] of perKey) {
    assert.deepEqual(values, [...values].sort((a, b) => a - b), `${reader}: ${key} in write order`);
  }
}

test(`SIGKILL of the worker ${KILLS} times during a steady write load: every command in Kafka exactly once`, { timeout: 600_000 }, async () => {
  const master = await startPikaMaster({ dbs: 2 });
  let masterClosedConnections = 0;
  const repl = master.repl as unknown as { closeConn(conn: unknown): void };
  const closeConn = repl.closeConn.bind(repl);
  repl.closeConn = (conn) => { masterClosedConnections++; closeConn(conn); };

  const run = pikaRun(master);
  const random = seededRandom(4_2026_1122);
  let seq = 0;
  let writer: NodeJS.Timeout | undefined;
  let worker = run.start();
  try {
    await waitStreaming(master, [0, 1], worker);
    writer = setInterval(() => {
      for (let i = 0; i < WRITES_PER_TICK; i++, seq++) master.exec(seq % 2, ['SET', `k${seq % KEYS}`, String(seq)]);
    }, TICK_MS);
    for (let kill = 0; kill < KILLS; kill++) {
      if (kill > 0) worker = run.start();
      // Kill only after this incarnation committed something, at a random moment after that.
      const before = JSON.stringify([...committedPositions(run)]);
      while (JSON.stringify([...committedPositions(run)]) === before) {
        assert.equal(worker.child.exitCode, null, `worker exited early; log tail:\n${worker.log.slice(-3000)}`);
        await sleep(50);
      }
      await sleep(Math.floor(random() * 1000));
      await worker.kill('SIGKILL');
    }
    clearInterval(writer);
    writer = undefined;
    const written = seq;
    worker = run.start();
    await waitCaughtUp(master, run, [0, 1], worker, 240_000);
    assert.equal(await worker.kill('SIGTERM'), 0, `graceful stop; log tail:\n${worker.log.slice(-3000)}`);
    assert.equal(masterClosedConnections, 0, 'the master never closed a replication connection');

    const topic = `pika.${run.cluster}.binlog`;
    check(await readAllCommitted(topic), written, 'kafkajs read_committed');
    check(await kcatReadCommitted(topic), written, 'kcat read_committed');
  } finally {
    if (writer) clearInterval(writer);
    if (worker.child.exitCode === null) await worker.kill('SIGKILL');
    await master.stop();
  }
});
