// A non-retriable failure (here the master refusing the Pika password) leaves the task FAILED with a clear message
// and no restart loop; once the cause is fixed, the operator's REST task restart brings it back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { startPikaMaster, type PikaMasterOptions } from '../../pika-master/index.ts';
import { restUrl } from '../../helpers/worker-process.ts';
import { RespClient } from './pika-workload.ts';
import { pikaRun, sleep, waitCaughtUp, waitStreaming } from './pika-harness.ts';

const CONNECTOR_PW = 'connector-pw-31c7';
const ROTATED_PW = 'rotated-pw-9d02';

const lines = (log: string, pattern: RegExp): string[] => log.split('\n').filter((l) => pattern.test(l));

test('a wrong Pika password: the task stays FAILED with the refusal in status after one attempt; fixed, a REST task restart brings it back', { timeout: 120_000 }, async () => {
  // The master's requirepass was rotated; the connector still has the old password.
  const options: PikaMasterOptions = { dbs: 1, requirepass: ROTATED_PW };
  const master = await startPikaMaster(options);
  const run = pikaRun(master, { 'pika.password': CONNECTOR_PW });
  // A short back-off: a restart loop, if there were one, would show several attempts within the wait below.
  appendFileSync(run.workerFile, 'connector.restart.backoff.max.ms=500\n');
  const worker = run.start();
  try {
    const base = await restUrl(worker);
    const taskUrl = `${base}/connectors/${encodeURIComponent(run.connector)}/tasks/0`;
    const taskStatus = async (): Promise<{ state: string; trace?: string; restarts: number }> => (await fetch(`${taskUrl}/status`)).json() as never;
    const deadline = Date.now() + 60_000;
    let status = await taskStatus();
    while (status.state !== 'FAILED') {
      assert.ok(Date.now() < deadline && worker.child.exitCode === null, `the task did not fail: ${JSON.stringify(status)}; log tail:\n${worker.log.slice(-3000)}`);
      await sleep(100);
      status = await taskStatus();
    }
    assert.match(status.trace ?? '', /the master refused MetaSync: .*check pika\.password/);
    await sleep(3000); // ≥ 6 back-offs of 500 ms: time for a restart loop to show itself
    status = await taskStatus();
    assert.equal(status.state, 'FAILED');
    assert.equal(status.restarts, 0, 'no automatic restart');
    assert.equal(lines(worker.log, /"msg":"replication stopped"/).length, 1, 'one replication attempt');
    assert.equal(lines(worker.log, /non-retriable error; it stays FAILED until restarted/).length, 1);
    assert.equal(lines(worker.log, /task failed; restarting/).length, 0);

    // The operator aligns the master's requirepass with the connector's and restarts the task.
    options.requirepass = CONNECTOR_PW;
    await master.restart();
    const restarted = await fetch(`${taskUrl}/restart`, { method: 'POST' });
    assert.equal(restarted.status, 204);
    await waitStreaming(master, [0], worker);
    const client = await RespClient.open(master.ports.resp);
    try {
      await client.command(['AUTH', CONNECTOR_PW]);
      await client.command(['SET', 'after-fix', 'v']);
    } finally {
      client.close();
    }
    await waitCaughtUp(master, run, [0], worker);
    status = await taskStatus();
    assert.equal(status.state, 'RUNNING');
    assert.equal(status.trace, undefined, 'the old trace is gone');
  } finally {
    await worker.kill('SIGTERM');
    await master.stop();
  }
});
