// The offsets API with the Pika connector on real Kafka, over HTTP: stop the connector, PATCH its committed binlog
// offset back to an earlier item, resume; the connector restarts from exactly that position (the later items come
// again, the earlier one does not), and a DELETE of the offsets with snapshot.mode=never starts at the master's end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPikaMaster } from '../../pika-master/index.ts';
import { readAllCommitted } from '../../helpers/kafka.ts';
import { restUrl, type WorkerProcess } from '../../helpers/worker-process.ts';
import type { PikaEvent } from '../../../connector/pika/events/event.ts';
import { RespClient } from './pika-workload.ts';
import { pikaRun, sleep, waitCaughtUp, waitStreaming } from './pika-harness.ts';

interface OffsetEntry { partition: Record<string, unknown>; offset: Record<string, unknown> }

test('Pika connector offsets over REST on real Kafka: PATCH back to an earlier item → it resumes right after it; DELETE (snapshot.mode=never) → it starts at the master\'s end', { timeout: 180_000 }, async () => {
  const master = await startPikaMaster({ dbs: 1 });
  const run = pikaRun(master);
  const worker = run.start();
  const client = await RespClient.open(master.ports.resp);
  try {
    await waitStreaming(master, [0], worker);
    const base = await restUrl(worker);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await res.text();
      return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
    };
    const state = async (): Promise<string> => (await call('GET', `/connectors/${run.connector}/status`)).json.connector.state;
    const waitState = async (wanted: string): Promise<void> => {
      const deadline = Date.now() + 60_000;
      while ((await state()) !== wanted) {
        assert.ok(Date.now() < deadline && worker.child.exitCode === null, `connector not ${wanted}; log tail:\n${worker.log.slice(-3000)}`);
        await sleep(200);
      }
    };
    const stop = async (): Promise<void> => {
      assert.equal((await call('PUT', `/connectors/${run.connector}/stop`)).status, 204);
      await waitState('STOPPED');
    };

    await client.command(['SET', 'k1', 'v']);
    const afterK1 = master.binlogPosition(0);
    await client.command(['SET', 'k2', 'v']);
    await client.command(['SET', 'k3', 'v']);
    await waitCaughtUp(master, run, [0], worker);

    await stop();
    const { offsets } = (await call('GET', `/connectors/${run.connector}/offsets`)).json as { offsets: OffsetEntry[] };
    assert.equal(offsets.length, 1);
    assert.equal(offsets[0]!.offset.offset, master.binlogPosition(0).offset, 'the committed offset is the binlog end');
    const back = { ...offsets[0]!.offset, filenum: afterK1.filenum, offset: afterK1.offset, logic_id: Number(afterK1.logicId) };
    const patched = await call('PATCH', `/connectors/${run.connector}/offsets`, { offsets: [{ partition: offsets[0]!.partition, offset: back }] });
    assert.equal(patched.status, 200, patched.text);
    assert.equal((await call('PUT', `/connectors/${run.connector}/resume`)).status, 202);
    await waitState('RUNNING');
    await waitStreaming(master, [0], worker);
    await client.command(['SET', 'k4', 'v']);
    await waitCaughtUp(master, run, [0], worker);

    // DELETE: no offset; snapshot.mode=never starts at the master's current position, so k5 (written while
    // stopped) is not captured and k6 (written after the resume) is.
    await stop();
    assert.equal((await call('DELETE', `/connectors/${run.connector}/offsets`)).status, 200);
    await client.command(['SET', 'k5', 'v']);
    assert.equal((await call('PUT', `/connectors/${run.connector}/resume`)).status, 202);
    await waitState('RUNNING');
    await waitStreaming(master, [0], worker);
    await client.command(['SET', 'k6', 'v']);
    await waitCaughtUp(master, run, [0], worker);

    assert.equal(await worker.kill('SIGTERM'), 0, `graceful stop; log tail:\n${worker.log.slice(-3000)}`);
    const keys = (await readAllCommitted(`pika.${run.cluster}.binlog`)).map((r) => (JSON.parse(r.value!.toString()) as PikaEvent).key!);
    const count = (k: string): number => keys.filter((x) => x === k).length;
    assert.deepEqual(['k1', 'k2', 'k3', 'k4', 'k5', 'k6'].map(count), [1, 2, 2, 1, 0, 1], `events per key: ${keys.join(',')}`);
  } finally {
    client.close();
    if (worker.child.exitCode === null) await worker.kill('SIGKILL');
    await master.stop();
  }
});
