// The Pika password (the master's requirepass) never leaves the configuration: a whole run at debug level against a
// password-protected master is grepped — the worker's log, every REST answer (config, status, tasks, connector
// list, validate), /metrics and the checkpoint files — and so is the failing run with a wrong password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startPikaMaster } from '../../pika-master/index.ts';
import { restUrl, type WorkerProcess } from '../../helpers/worker-process.ts';
import { RespClient } from './pika-workload.ts';
import { pikaRun, sleep, waitCaughtUp, waitStreaming } from './pika-harness.ts';

const SECRET = 'pika-pw-5e1f9c';
const WRONG = 'wrong-pw-77ab21';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function assertNoSecret(where: string, text: string, secret: string): void {
  assert.ok(text.length > 0, `${where} is empty: nothing was checked`);
  assert.ok(!text.includes(secret), `${where} holds the Pika password`);
}

test('the Pika password appears in no log line, REST answer, metric or checkpoint of a run', { timeout: 180_000 }, async () => {
  const master = await startPikaMaster({ dbs: 1, requirepass: SECRET });
  const run = pikaRun(master, { 'pika.password': SECRET });
  appendFileSync(run.workerFile, 'log.level=debug\n');
  const worker = run.start();
  const client = await RespClient.open(master.ports.resp);
  try {
    await client.command(['AUTH', SECRET]);
    await waitStreaming(master, [0], worker);
    for (let i = 0; i < 20; i += 1) await client.command(['SET', `k${i}`, `v${i}`]);
    await waitCaughtUp(master, run, [0], worker);

    const base = await restUrl(worker);
    const name = encodeURIComponent(run.connector);
    const answers: Array<[string, string]> = [];
    for (const path of [`/connectors/${name}/config`, `/connectors/${name}`, `/connectors/${name}/status`, `/connectors/${name}/tasks`,
      '/connectors?expand=status&expand=info', '/metrics']) {
      const response = await fetch(`${base}${path}`);
      assert.equal(response.status, 200, `GET ${path}`);
      answers.push([`GET ${path}`, await response.text()]);
    }
    const config = JSON.parse(answers[0]![1]) as Record<string, string>;
    assert.ok('pika.password' in config, 'the config answer still names the key (its value redacted)');
    const validate = await fetch(`${base}/connector-plugins/${encodeURIComponent(config['connector.class']!)}/config/validate`, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...config, 'pika.password': SECRET, 'tasks.max': 'many' }),
    });
    assert.equal(validate.status, 200, 'PUT …/config/validate');
    answers.push(['PUT …/config/validate', await validate.text()]);
    for (const [where, text] of answers) assertNoSecret(where, text, SECRET);
    for (const file of filesUnder(run.checkpoints)) assertNoSecret(`checkpoint ${file}`, readFileSync(file, 'utf8'), SECRET);
  } finally {
    client.close();
    await worker.kill('SIGTERM');
    await master.stop();
  }
  assert.ok(worker.log.includes('"level":"debug"'), 'the run logged at debug level');
  assertNoSecret('the worker log', worker.log, SECRET);
});

test('a wrong Pika password fails the task with an authentication error that does not repeat it', { timeout: 120_000 }, async () => {
  const master = await startPikaMaster({ dbs: 1, requirepass: SECRET });
  const run = pikaRun(master, { 'pika.password': WRONG });
  const worker = run.start();
  try {
    const deadline = Date.now() + 60_000;
    while (!/auth|password/i.test(worker.log.split('\n').filter((l) => /error|fail/i.test(l)).join('\n'))) {
      if (Date.now() > deadline || worker.child.exitCode !== null) break;
      await sleep(200);
    }
  } finally {
    await worker.kill('SIGTERM');
    await master.stop();
  }
  assert.match(worker.log, /auth|password/i, 'the log says authentication failed');
  assertNoSecret('the worker log', worker.log, WRONG);
  assertNoSecret('the worker log', worker.log, SECRET);
});
