import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kafkaClient, uniqueName, readAllCommitted, kcatReadCommitted } from '../../helpers/kafka.ts';
import { startTestWorker, testConnectorConfig, testWorkerConfig, waitCommitted } from '../../helpers/in-process-worker.ts';

test('records over max.request.size land in the dead-letter topic with their reason, exactly once, and the source moves on', { timeout: 180_000 }, async () => {
  const worker = testWorkerConfig('dlq');
  const topic = uniqueName('dlq-main');
  const dlq = uniqueName('dlq-dead');
  const connector = testConnectorConfig({
    name: uniqueName('dlq'), 'connector.class': 'synthetic', 'synthetic.topic': topic, 'synthetic.streams': '1',
    'synthetic.max.records': '40', 'synthetic.record.bytes': '5000', 'synthetic.batch.size': '10',
    'producer.override.max.request.size': '4000',
    'errors.tolerance': 'all', 'errors.deadletterqueue.topic.name': dlq, 'errors.deadletterqueue.context.headers.enable': 'true',
  });
  const w = startTestWorker(worker);
  await w.start([connector]);
  try {
    await waitCommitted(w, connector.name, 40);
  } finally {
    await w.stop();
  }
  const admin = kafkaClient().admin();
  await admin.connect();
  const topics = await admin.listTopics();
  await admin.disconnect();
  if (topics.includes(topic)) assert.equal((await readAllCommitted(topic)).length, 0, 'nothing oversized reached the main topic');
  const dead = await readAllCommitted(dlq);
  assert.equal(dead.length, 40, 'every oversized record is in the dead-letter topic once');
  const seqs = dead.map((r) => (JSON.parse(r.value!.toString()) as { seq: number }).seq);
  assert.deepEqual(seqs, Array.from({ length: 40 }, (_, i) => i));
  const headers = Object.fromEntries(dead[0]!.headers.map((h) => [h.key, h.value?.toString()]));
  assert.match(headers['__connect.errors.reason']!, /exceeds the limit of 3488 bytes \(max\.request\.size\)/);
  assert.equal(headers['__connect.errors.topic'], topic);
  assert.equal(headers['__connect.errors.stage'], 'PRODUCE');
  assert.equal((await kcatReadCommitted(dlq)).length, 40, 'an independent client sees the same');
});
