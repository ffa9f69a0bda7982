// SIGKILL of the worker during a steady write load on a legacy test master (3.0 frames, 2.x RESP), with small binlog
// files so the master rolls files meanwhile: afterwards every written command is in Kafka exactly once
// (read_committed, kafkajs and kcat), in write order per key. Legacy masters take no acks: the only resume point is
// the committed offset (TRYSYNC at the last committed item's start, that item dropped when it comes again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPikaMaster } from '../../pika-master/index.ts';
import { kcatReadCommitted, readAllCommitted, type CommittedRecord } from '../../helpers/kafka.ts';
import { seededRandom } from '../../helpers/worker-process.ts';
import type { PikaEvent } from '../../../connector/pika/events/event.ts';
import { sleep } from './pika-harness.ts';
import { committedResume, legacyRun, waitLegacyCaughtUp, waitLog } from './legacy-harness.ts';

const KILLS = 3;
const KEYS = 10;
const WRITES_PER_TICK = 5;
const TICK_MS = 20;

function check(records: CommittedRecord[], written: number, reader: string): void {
  const seen = new Map<number, number>();
  const perKey = new Map<string, number[]>();
  for (const r of records) {
    const event = JSON.parse(r.value!.toString()) as PikaEvent;
    const seq = Number(Buffer.from(event.args_b64[1]!, 'base64').toString());
    seen.set(seq, (seen.get(seq) ?? 0) + 1);
    perKey.set(event.key!, [...(perKey.get(event.key!) ?? []), seq]);
  }
  const dupes = [...seen].filter(([, n]) => n > 1).map(([s]) => s);
  assert.deepEqual(dupes.slice(0, 10), [], `${reader}: duplicates (${dupes.length})`);
  const missing: number[] = [];
  for (let s = 0; s < written; s++) if (!seen.has(s)) missing.push(s);
  assert.deepEqual(missing.slice(0, 10), [], `${reader}: lost writes (${missing.length} of ${written})`);
  assert.equal(seen.size, written, `${reader}: nothing unexpected`);
  for (const [key, seqs] of perKey) assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `${reader}: ${key} in write order`);
}

for (const profile of ['legacy-3.0', 'legacy-2.x'] as const) {
  test(`${profile}: SIGKILL of the worker ${KILLS} times during writes and binlog rolls: every command in Kafka exactly once`, { timeout: 300_000 }, async () => {
    const master = await startPikaMaster({ profile, timeScale: 4, binlogFileSize: 32 * 1024 }); // small: rolls within ~2 s of writes
    const run = await legacyRun(master);
    const random = seededRandom(7_2026_1122);
    let seq = 0;
    let writer: NodeJS.Timeout | undefined;
    let worker = run.start();
    try {
      await waitLog(worker, /replicating from the legacy Pika master/);
      writer = setInterval(() => {
        for (let i = 0; i < WRITES_PER_TICK; i++, seq++) master.exec(0, ['SET', `k${seq % KEYS}`, String(seq)]);
      }, TICK_MS);
      for (let kill = 0; kill < KILLS; kill++) {
        if (kill > 0) worker = run.start();
        const before = JSON.stringify(committedResume(run));
        while (JSON.stringify(committedResume(run)) === before) {
          assert.equal(worker.child.exitCode, null, `worker exited early; log tail:\n${worker.log.slice(-3000)}`);
          await sleep(50);
        }
        await sleep(Math.floor(random() * 1500));
        await worker.kill('SIGKILL');
      }
      clearInterval(writer);
      writer = undefined;
      const written = seq;
      assert.ok(master.binlogPosition(0).filenum >= 1, 'the master rolled binlog files during the test');
      worker = run.start();
      await waitLegacyCaughtUp(run, worker);
      assert.equal(await worker.kill('SIGTERM'), 0, `graceful stop; log tail:\n${worker.log.slice(-3000)}`);
      const topic = `pika.${run.cluster}.binlog`;
      check(await readAllCommitted(topic), written, 'kafkajs read_committed');
      check(await kcatReadCommitted(topic), written, 'kcat read_committed');
    } finally {
      if (writer) clearInterval(writer);
      if (worker.child.exitCode === null) await worker.kill('SIGKILL');
      await master.stop();
    }
  });
}
