import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConnectorConfig, pluginLookup, topicGroupFor } from '../../../../runtime/config/index.ts';
import { fakePikaPlugin, problemsOf, writeProps } from './helpers.ts';

const plugins = pluginLookup([fakePikaPlugin]);
const base = ['name=c', 'connector.class=PikaSource', 'pika.host=h'];

test('groups are matched in listed order, include/exclude match whole names, default takes the rest', () => {
  const file = writeProps('groups.properties', [
    ...base,
    'topic.creation.groups=compacted, hot',
    'topic.creation.default.replication.factor=3',
    'topic.creation.default.partitions=6',
    'topic.creation.default.retention.ms=86400000',
    'topic.creation.compacted.include=pika\\..*\\.meta, pika-offsets',
    'topic.creation.compacted.exclude=pika\\.secret\\..*',
    'topic.creation.compacted.cleanup.policy=compact',
    'topic.creation.hot.include=pika\\..*',
    'topic.creation.hot.partitions=24',
    'topic.creation.hot.min.insync.replicas=2',
  ]);
  const cfg = loadConnectorConfig(file, plugins, {});
  assert.deepEqual(cfg.topicCreationGroups.map((g) => ({ name: g.name, rf: g.replicationFactor, p: g.partitions, configs: g.configs })), [
    { name: 'compacted', rf: 3, p: 6, configs: { 'cleanup.policy': 'compact' } },
    { name: 'hot', rf: 3, p: 24, configs: { 'min.insync.replicas': '2' } },
    { name: 'default', rf: 3, p: 6, configs: { 'retention.ms': '86400000' } },
  ]);
  const groupOf = (topic: string) => topicGroupFor(cfg, topic).name;
  assert.equal(groupOf('pika.db0.meta'), 'compacted');
  assert.equal(groupOf('pika-offsets'), 'compacted');
  assert.equal(groupOf('pika.secret.meta'), 'hot', 'excluded from compacted, then taken by hot');
  assert.equal(groupOf('pika.db0'), 'hot');
  assert.equal(groupOf('xpika.db0'), 'default', 'include must match the whole name');
  assert.equal(groupOf('other'), 'default');
});

test('without topic creation keys there is only the default group, with broker defaults', () => {
  const cfg = loadConnectorConfig(writeProps('nogroups.properties', base), plugins, {});
  assert.equal(cfg.topicCreationGroups.length, 1);
  const g = topicGroupFor(cfg, 'anything');
  assert.deepEqual([g.name, g.replicationFactor, g.partitions, g.configs], ['default', -1, -1, {}]);
});

test('topic creation mistakes are each reported with their line', () => {
  const file = writeProps('badgroups.properties', [
    ...base,
    'topic.creation.groups=a,b',
    'topic.creation.a.include=(unclosed',
    'topic.creation.a.replication.factor=0',
    'topic.creation.default.include=.*',
    'topic.creation.c.include=x',
    'topic.creation.default.partitions=many',
    'topic.creation.b=x',
  ]);
  // The regex engine's own wording varies between Node versions: keep only its start.
  const problems = problemsOf(() => loadConnectorConfig(file, plugins, {}))
    .map((p) => p.replace(/\(Invalid regular expression: .*\)$/, '(Invalid regular expression: …)'));
  assert.deepEqual(problems, [
    `${file}:5 topic.creation.a.include: must be a comma-separated list of regular expressions; bad: "(unclosed" (Invalid regular expression: …)`,
    `${file}:6 topic.creation.a.replication.factor: must be an integer in [1, 32767] or -1 (broker default), got "0"`,
    `${file}:7 topic.creation.default.include: not allowed: the default group takes every topic that no listed group takes`,
    `${file}:8 topic.creation.c.include: unknown connector key; group "c" is not listed in topic.creation.groups`,
    `${file}:9 topic.creation.default.partitions: must be a positive integer or -1 (broker default), got "many"`,
    `${file}:10 topic.creation.b: unknown connector key; a setting name must follow the group name, e.g. topic.creation.b.include`,
    `${file} topic.creation.b.include: required for group "b" listed in topic.creation.groups (a group without include takes no topic)`,
  ]);
});

test('the group list rejects "default", duplicates and odd names', () => {
  for (const [value, message] of [
    ['a,default', '"default" is always defined and must not be listed'],
    ['a,a', 'duplicate group name(s): a'],
    ['a.b', 'group names may only hold letters, digits, "_" and "-"; bad: "a.b"'],
  ] as const) {
    const file = writeProps('grouplist.properties', [...base, `topic.creation.groups=${value}`, 'topic.creation.a.include=x']);
    assert.deepEqual(problemsOf(() => loadConnectorConfig(file, plugins, {})), [`${file}:4 topic.creation.groups: ${message}`]);
  }
});
