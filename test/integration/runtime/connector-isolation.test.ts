import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConnectorProps, parseWorkerProps } from '../../../runtime/config/index.ts';
import { bundledPlugins } from '../../../runtime/bundled-plugins.ts';
import { createRootLogger } from '../../../runtime/util/logger.ts';
import { Worker } from '../../../runtime/worker/worker.ts';
import { bootstrap, uniqueName, readAllCommitted } from '../../helpers/kafka.ts';
import { tempDir } from '../../helpers/worker-process.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a connector whose topic cannot be created fails with the topic and the fix named, and the others keep running', { timeout: 180_000 }, async () => {
  const plugins = bundledPlugins();
  const worker = parseWorkerProps({
    'bootstrap.servers': bootstrap(),
    'offset.storage.topic': uniqueName('iso-offsets'),
    'offset.storage.partitions': '1',
    'offset.checkpoint.dir': tempDir('pc-iso-'),
    'value.converter.schemas.enable': 'false',
    'connector.restart.backoff.max.ms': '2000',
  });
  const connector = (name: string, topic: string, extra: Record<string, string>) => parseConnectorProps({
    name, 'connector.class': 'synthetic', 'synthetic.topic': topic, 'synthetic.streams': '2', 'synthetic.max.records': '300', ...extra,
  }, (cls) => plugins.connector(cls));
  const missingTopic = uniqueName('iso-missing');
  const tooReplicated = uniqueName('iso-rf3');
  const goodTopic = uniqueName('iso-good');
  const w = new Worker(worker, plugins, createRootLogger('error'));
  await w.start([
    connector('no-creation', missingTopic, { 'topic.creation.enable': 'false' }),
    connector('refused', tooReplicated, { 'topic.creation.default.replication.factor': '3' }),
    connector('healthy', goodTopic, {}),
  ]);
  try {
    const deadline = Date.now() + 120_000;
    const committed = () => w.connector('healthy')!.taskMetrics().reduce((n, t) => n + t.metrics.recordsCommitted, 0);
    const trace = (name: string) => w.connector(name)!.status().tasks[0]?.trace ?? '';
    while (committed() < 600 || !trace('no-creation') || !trace('refused')) {
      assert.ok(Date.now() < deadline, `timed out: healthy committed ${committed()}, traces: ${trace('no-creation')} | ${trace('refused')}`);
      await sleep(200);
    }
    assert.match(trace('no-creation'), new RegExp(`Topic ${missingTopic} does not exist and topic.creation.enable=false. Fix: create ${missingTopic}`));
    assert.match(trace('refused'), new RegExp(`Could not create topic ${tooReplicated}: .*Fix: create topic ${tooReplicated} yourself`));
    assert.ok(w.connector('refused')!.status().tasks[0]!.restarts >= 1, 'the failing task is retried');
    assert.equal(w.connector('healthy')!.status().tasks[0]!.state, 'RUNNING');
  } finally {
    await w.stop();
  }
  const records = await readAllCommitted(goodTopic);
  assert.equal(records.length, 600, 'the healthy connector delivered all its records');
});
