import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniqueName, readAllCommitted } from '../../helpers/kafka.ts';
import { startTestWorker, testConnectorConfig, testWorkerConfig, waitCommitted } from '../../helpers/in-process-worker.ts';

test('a poll far larger than the broker message limit (1 MiB) is split into several requests of one transaction', { timeout: 180_000 }, async () => {
  const worker = testWorkerConfig('big');
  const topic = uniqueName('big');
  const connector = testConnectorConfig({
    name: uniqueName('big'), 'connector.class': 'synthetic', 'synthetic.topic': topic, 'synthetic.streams': '1',
    'synthetic.max.records': '8000', 'synthetic.record.bytes': '800', 'synthetic.batch.size': '4000',
    'topic.creation.default.partitions': '1',
  });
  const w = startTestWorker(worker);
  await w.start([connector]);
  try {
    const metrics = () => w.connector(connector.name)!.taskMetrics()[0]!.metrics;
    await waitCommitted(w, connector.name, 8000);
    assert.equal(metrics().failures, 0, 'no MESSAGE_TOO_LARGE failure');
    assert.equal(metrics().transactionsCommitted, 2, 'one transaction per poll of 4000 records (~3.3 MB)');
  } finally {
    await w.stop();
  }
  const seqs = (await readAllCommitted(topic)).map((r) => (JSON.parse(r.value!.toString()) as { seq: number }).seq);
  assert.deepEqual(seqs, Array.from({ length: 8000 }, (_, i) => i));
});
