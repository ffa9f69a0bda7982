// Kafka unavailable for longer than the master keeps its binlog, while the master writes and purges: with the spill
// log (spill.enabled=true) the connector keeps following the master, and once Kafka is back every write is in Kafka
// exactly once; without it the documented behaviour: a logged gap (binlog purged) and a full sync, never a silent skip.
//
// The outage kills the test's broker (SIGKILL, found through the pid file scripts/kafka.sh keeps for the broker
// scripts/test.sh started) and, once the connector's task has failed and the master went on writing, starts it again
// with the same command line on its kept data (and records the new pid, so scripts/kafka.sh stop still stops it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { startPikaMaster, type PikaMaster } from '../../pika-master/index.ts';
import { bootstrap, readAllCommitted } from '../../helpers/kafka.ts';
import { brokerPidFile, bootstrapPort, killBroker } from '../../helpers/broker-outage.ts';
import { tempDir, type WorkerProcess } from '../../helpers/worker-process.ts';
import type { PikaEvent } from '../../../connector/pika/events/event.ts';
import { committedPositions, pikaRun, sleep, waitCaughtUp, waitStreaming, type PikaRun } from './pika-harness.ts';

/** Kafka stays down this long after the connector's task failed (the master writes on meanwhile). */
const DOWN_AFTER_FAILURE_MS = 5000;

const pidFile = process.env.KAFKA_BOOTSTRAP ? brokerPidFile(process.env.KAFKA_NAME ?? `test-${bootstrapPort(bootstrap())}`) : undefined;
const skip = pidFile === undefined ? 'needs the broker scripts/test.sh starts (its pid file under .cache/kafka-run/test-<port>/)' : false;

const oldestBinlogFile = (master: PikaMaster): number => Math.min(...master.core.binlogs[0]!.fileNumbers());

/** Writes SET k<seq % 50> <seq>:… every 20 ms until stopped; returns how many. */
function steadyWriter(master: PikaMaster): { stop(): number } {
  let seq = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < 10; i++, seq++) master.exec(0, ['SET', `k${seq % 50}`, `${seq}:${'v'.repeat(40)}`]);
  }, 20);
  return { stop: () => { clearInterval(timer); return seq; } };
}

/**
 * Kills the broker, waits until `worker` logged a failed task and DOWN_AFTER_FAILURE_MS more, then starts the broker
 * again on its data and waits until it answers.
 */
async function kafkaOutage(worker: WorkerProcess, whileDown?: () => Promise<void>): Promise<void> {
  const broker = await killBroker(pidFile!);
  try {
    const deadline = Date.now() + 90_000;
    while (!/task failed; restarting/.test(worker.log) && Date.now() < deadline && worker.child.exitCode === null) await sleep(100);
    await sleep(DOWN_AFTER_FAILURE_MS);
    await whileDown?.();
  } finally {
    await broker.restart();
  }
}

/** Once the connector streams: the steady writer started, and returned once a first offset is committed. */
async function writeUntilCommitted(master: PikaMaster, run: PikaRun, worker: WorkerProcess): Promise<ReturnType<typeof steadyWriter>> {
  await waitStreaming(master, [0], worker);
  const writer = steadyWriter(master);
  while (committedPositions(run).get(0) === undefined) {
    if (worker.child.exitCode !== null) writer.stop();
    assert.equal(worker.child.exitCode, null, `worker exited; log tail:\n${worker.log.slice(-3000)}`);
    await sleep(50);
  }
  return writer;
}

function connectorProps(spill: boolean, spillDir: string): Record<string, string | number> {
  return {
    'spill.enabled': String(spill),
    'spill.after.ms': 3000,
    'spill.dir': spillDir,
    'spill.max.bytes': 64 * 1024 * 1024,
  };
}

test('Kafka down longer than the binlog retention, spill log on: the connector keeps acking from its log; afterwards every write is in Kafka exactly once', { skip, timeout: 240_000 }, async () => {
  const master = await startPikaMaster({ binlogFileSize: 4096, expireLogsNums: 3 });
  const spillDir = tempDir('pc-spill-');
  const run = pikaRun(master, connectorProps(true, spillDir));
  const worker = run.start();
  let writer: ReturnType<typeof steadyWriter> | undefined;
  try {
    writer = await writeUntilCommitted(master, run, worker);
    const committedBefore = committedPositions(run).get(0)!;
    // Segments are looked for while Kafka is down: once it is back they are replayed and trimmed, maybe at once.
    let segmentsWhileDown = false;
    await kafkaOutage(worker, async () => {
      const deadline = Date.now() + 60_000;
      while (!(segmentsWhileDown = readdirSync(spillDir).some((n) => n.startsWith('spill-'))) && Date.now() < deadline) await sleep(100);
    });
    const oldestAfterOutage = oldestBinlogFile(master);
    const written = writer.stop();
    writer = undefined;
    assert.ok(oldestAfterOutage > committedBefore.filenum + 1,
      `the master purged past the position committed before the outage (oldest file ${oldestAfterOutage}, committed ${committedBefore.filenum})`);
    assert.match(worker.log, /writing binlog items to the local spill log/);
    assert.ok(segmentsWhileDown, 'the spill log had segments while Kafka was down');

    await waitCaughtUp(master, run, [0], worker, 150_000);
    assert.equal(await worker.kill('SIGTERM'), 0, `graceful stop; log tail:\n${worker.log.slice(-3000)}`);
    assert.doesNotMatch(worker.log, /binlog gap/);

    const seen = new Map<number, number>();
    for (const r of await readAllCommitted(`pika.${run.cluster}.binlog`)) {
      const event = JSON.parse(r.value!.toString()) as PikaEvent;
      const seq = Number(Buffer.from(event.args_b64[1]!, 'base64').toString().split(':')[0]);
      seen.set(seq, (seen.get(seq) ?? 0) + 1);
    }
    const missing = [...Array(written).keys()].filter((s) => !seen.has(s));
    const doubled = [...seen].filter(([, n]) => n > 1).map(([s]) => s);
    assert.deepEqual({ missing: missing.slice(0, 10), doubled: doubled.slice(0, 10) }, { missing: [], doubled: [] },
      `${missing.length} missing, ${doubled.length} duplicated of ${written}`);
    assert.equal(seen.size, written);
    assert.equal(readdirSync(spillDir).filter((n) => n.startsWith('spill-')).length <= 1, true, 'replayed segments are trimmed');
  } finally {
    writer?.stop();
    if (worker.child.exitCode === null) await worker.kill('SIGKILL');
    await master.stop();
  }
});

test('Kafka down longer than the binlog retention, spill log off: a logged gap (binlog purged) and a full sync, never a silent skip', { skip, timeout: 240_000 }, async () => {
  const master = await startPikaMaster({ binlogFileSize: 4096, expireLogsNums: 3 });
  const run = pikaRun(master, { ...connectorProps(false, tempDir('pc-spill-')), 'snapshot.on.gap': 'resync', 'pika.rsync.port': master.ports.rsync });
  const worker = run.start();
  let writer: ReturnType<typeof steadyWriter> | undefined;
  try {
    writer = await writeUntilCommitted(master, run, worker);
    await kafkaOutage(worker);
    writer.stop();
    writer = undefined;
    const deadline = Date.now() + 120_000;
    while (!/full sync requested/.test(worker.log)) {
      assert.ok(Date.now() < deadline && worker.child.exitCode === null, `no gap and full sync; log tail:\n${worker.log.slice(-4000)}`);
      await sleep(200);
    }
    assert.match(worker.log, /kSyncPointBePurged/);
    assert.match(worker.log, /binlog gap: full sync of the DB again/);
    assert.doesNotMatch(worker.log, /spill log/);
  } finally {
    writer?.stop();
    if (worker.child.exitCode === null) await worker.kill('SIGKILL');
    await master.stop();
  }
});
