import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pikaSourceSettings, validatePikaSource } from '../../../../../connector/pika/source/config.ts';
import { PikaSourceConnector, pikaSourceConnectorPlugin } from '../../../../../connector/pika/source/pika-source-connector.ts';

const minimal = { 'pika.host': 'pika1', 'source.id': 's1', cluster: 'prod' };

test('defaults: ports derived from pika.port, topics from cluster, dual mode, snapshot.on.gap=resync', () => {
  assert.deepEqual(validatePikaSource(minimal), []);
  const s = pikaSourceSettings({ ...minimal, 'pika.port': '9221' });
  assert.equal(s.replPort, 11221);
  assert.equal(s.rsyncPort, 19222);
  assert.deepEqual([s.topicSnapshot, s.topicBinlog, s.topicSingle], ['pika.prod.snapshot', 'pika.prod.binlog', 'pika.prod.stream']);
  assert.equal(s.streamMode, 'dual');
  assert.equal(s.snapshotOnGap, 'resync');
  assert.equal(s.snapshotMode, 'initial');
  assert.equal(s.dbs, undefined);
});

test('every bad key is reported with its name', () => {
  const issues = validatePikaSource({
    'pika.port': '70000', 'pika.dbs': 'db0,db9', 'stream.mode': 'both', 'topic.binlog': 'bad topic', 'snapshot.mode': 'sometimes',
    'snapshot.on.gap': 'ignore', 'pika.replica.ip': '10.0.0.1', 'pika.ping.interval.ms': '9000',
  });
  const keys = issues.map((i) => i.key).sort();
  assert.deepEqual(keys, ['cluster', 'pika.dbs', 'pika.host', 'pika.ping.interval.ms', 'pika.port', 'pika.replica.port', 'snapshot.mode', 'snapshot.on.gap', 'source.id', 'stream.mode', 'topic.binlog'].sort());
  assert.match(issues.find((i) => i.key === 'pika.dbs')!.message, /"db9"/);
});

test('the plugin answers to its class name and alias, lists its keys and runs one task whatever tasks.max says', async () => {
  assert.deepEqual(pikaSourceConnectorPlugin.names.filter((n) => n === 'io.pika.connect.PikaSourceConnector' || n === 'pika').length, 2);
  const c = new PikaSourceConnector();
  assert.ok(c.configKeys().includes('snapshot.on.gap') && c.configKeys().includes('pika.replica.ip'));
  await c.start({ ...minimal });
  assert.equal(c.taskConfigs(4).length, 1);
  await assert.rejects(c.start({}), /pika\.host/);
});

test('snapshot keys: defaults, bounds, and dlq needs a dead-letter topic', () => {
  const base = { 'pika.host': 'h', 'source.id': 's', cluster: 'c' };
  const s = pikaSourceSettings(base);
  assert.equal(s.snapshotMode, 'initial');
  assert.equal(s.snapshotMaxElementsPerEvent, 1000);
  assert.equal(s.snapshotMaxBytesPerEvent, 512 * 1024);
  assert.equal(s.snapshotOversizePolicy, 'fail');
  assert.equal(s.snapshotDir, undefined);
  assert.equal(s.snapshotFetchBytesPerSecond, 0);
  const issues = validatePikaSource({ ...base, 'snapshot.max.elements.per.event': '0', 'snapshot.max.bytes.per.event': 'x', 'snapshot.oversize.policy': 'dlq', 'snapshot.dir': ' ' });
  assert.deepEqual(issues.map((i) => i.key).sort(), ['snapshot.dir', 'snapshot.max.bytes.per.event', 'snapshot.max.elements.per.event', 'snapshot.oversize.policy']);
  assert.match(issues.find((i) => i.key === 'snapshot.oversize.policy')!.message, /errors\.deadletterqueue\.topic\.name/);
  assert.deepEqual(validatePikaSource({ ...base, 'snapshot.oversize.policy': 'dlq', 'errors.deadletterqueue.topic.name': 'dlq' }), []);
});

test('snapshot decoding: in the task thread, with the block thread where a second core can run it (auto)', () => {
  const s = pikaSourceSettings(minimal);
  assert.equal(s.snapshotDecodeThreads, 1);
  assert.equal(s.snapshotDecodeBlockThread, availableParallelism() > 1);
  assert.equal(pikaSourceSettings({ ...minimal, 'snapshot.decode.block.thread': 'true' }).snapshotDecodeBlockThread, true);
  assert.equal(pikaSourceSettings({ ...minimal, 'snapshot.decode.block.thread': 'false' }).snapshotDecodeBlockThread, false);
  const issues = validatePikaSource({ ...minimal, 'snapshot.decode.block.thread': 'yes', 'snapshot.decode.threads': '-1' });
  assert.deepEqual(issues.map((i) => i.key).sort(), ['snapshot.decode.block.thread', 'snapshot.decode.threads']);
});
