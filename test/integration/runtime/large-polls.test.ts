import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConnectorProps, parseWorkerProps } from '../../../runtime/config/index.ts';
import { bundledPlugins } from '../../../runtime/bundled-plugins.ts';
import { createRootLogger } from '../../../runtime/util/logger.ts';
import { Worker } from '../../../runtime/worker/worker.ts';
import { bootstrap, uniqueName, readAllCommitted } from '../../helpers/kafka.ts';
import { tempDir } from '../../helpers/worker-process.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a poll far larger than the broker message limit (1 MiB) is split into several requests of one transaction', { timeout: 180_000 }, async () => {
  const plugins = bundledPlugins();
  const worker = parseWorkerProps({
    'bootstrap.servers': bootstrap(),
    'offset.storage.topic': uniqueName('big-offsets'),
    'offset.storage.partitions': '1',
    'offset.checkpoint.dir': tempDir('pc-big-'),
    'value.converter.schemas.enable': 'false',
    listeners: 'http://127.0.0.1:0',
  });
  const topic = uniqueName('big');
  const connector = parseConnectorProps({
    name: uniqueName('big'), 'connector.class': 'synthetic', 'synthetic.topic': topic, 'synthetic.streams': '1',
    'synthetic.max.records': '8000', 'synthetic.record.bytes': '800', 'synthetic.batch.size': '4000',
    'topic.creation.default.partitions': '1',
  }, (cls) => plugins.connector(cls));
  const w = new Worker(worker, plugins, createRootLogger('error'));
  await w.start([connector]);
  try {
    const metrics = () => w.connector(connector.name)!.taskMetrics()[0]!.metrics;
    const deadline = Date.now() + 120_000;
    while (metrics().recordsCommitted < 8000) {
      assert.ok(Date.now() < deadline, `timed out at ${metrics().recordsCommitted} committed records, ${metrics().failures} failures`);
      await sleep(100);
    }
    assert.equal(metrics().failures, 0, 'no MESSAGE_TOO_LARGE failure');
    assert.equal(metrics().transactionsCommitted, 2, 'one transaction per poll of 4000 records (~3.3 MB)');
  } finally {
    await w.stop();
  }
  const seqs = (await readAllCommitted(topic)).map((r) => (JSON.parse(r.value!.toString()) as { seq: number }).seq);
  assert.deepEqual(seqs, Array.from({ length: 8000 }, (_, i) => i));
});
