import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConnectorPlugin } from '../../../../runtime/api/connector.ts';
import { checkConnectorProps, loadConnectorConfig, parseConnectorProps, pluginLookup } from '../../../../runtime/config/index.ts';
import { fakePikaPlugin, problemsOf, writeProps } from './helpers.ts';

const plugins = pluginLookup([fakePikaPlugin]);

test('a minimal connector file gets the runtime defaults and keeps every key for the plugin', () => {
  const file = writeProps('minimal.properties', [
    'name=pika-source',
    'connector.class=PikaSource',
    'pika.host=127.0.0.1',
  ]);
  const cfg = loadConnectorConfig(file, plugins, {});
  assert.deepEqual({ ...cfg, topicCreationGroups: undefined }, {
    file,
    name: 'pika-source',
    connectorClass: 'PikaSource',
    tasksMax: 1,
    keyConverterProps: {},
    valueConverterProps: {},
    exactlyOnceSupport: 'requested',
    transactionBoundary: 'poll',
    topicCreationEnable: true,
    topicCreationGroups: undefined,
    producerOverrides: {},
    errorsRetryTimeoutMs: 0,
    errorsRetryDelayMaxMs: 60000,
    errorsTolerance: 'none',
    dlqContextHeaders: false,
    errorsLogEnable: false,
    taskThreadEnable: false,
    props: { name: 'pika-source', 'connector.class': 'PikaSource', 'pika.host': '127.0.0.1' },
  });
  assert.deepEqual(cfg.topicCreationGroups.map((g) => [g.name, g.replicationFactor, g.partitions]), [['default', -1, -1]]);
});

test('runtime keys are typed; optional keys, converters and producer overrides are read', () => {
  const file = writeProps('full.properties', [
    'name=pika-source',
    'connector.class=io.pika.connect.PikaSourceConnector',
    'tasks.max=4',
    'key.converter=org.apache.kafka.connect.storage.StringConverter',
    'value.converter=io.confluent.connect.avro.AvroConverter',
    'value.converter.schema.registry.url=http://registry:8081',
    'exactly.once.support=REQUIRED',
    'transaction.boundary=interval',
    'transaction.boundary.interval.ms=2500',
    'topic.creation.enable=false',
    'producer.override.compression.type=zstd',
    'errors.retry.timeout=-1',
    'errors.retry.delay.max.ms=1000',
    'errors.tolerance=all',
    'errors.deadletterqueue.topic.name=pika-dlq',
    'errors.deadletterqueue.context.headers.enable=true',
    'errors.log.enable=TRUE',
    'pika.host=pika',
    'pika.port=9221',
    'pika.password=s3cret',
    'filter.keys=user:*',
  ]);
  const cfg = loadConnectorConfig(file, plugins, {});
  assert.equal(cfg.tasksMax, 4);
  assert.equal(cfg.keyConverter, 'org.apache.kafka.connect.storage.StringConverter');
  assert.equal(cfg.valueConverter, 'io.confluent.connect.avro.AvroConverter');
  assert.deepEqual(cfg.valueConverterProps, { 'schema.registry.url': 'http://registry:8081' });
  assert.equal(cfg.exactlyOnceSupport, 'required');
  assert.equal(cfg.transactionBoundary, 'interval');
  assert.equal(cfg.transactionBoundaryIntervalMs, 2500);
  assert.equal(cfg.topicCreationEnable, false);
  assert.deepEqual(cfg.producerOverrides, { 'compression.type': 'zstd' });
  assert.equal(cfg.errorsRetryTimeoutMs, -1);
  assert.equal(cfg.errorsRetryDelayMaxMs, 1000);
  assert.equal(cfg.errorsTolerance, 'all');
  assert.equal(cfg.dlqTopic, 'pika-dlq');
  assert.equal(cfg.dlqContextHeaders, true);
  assert.equal(cfg.errorsLogEnable, true);
  assert.equal(cfg.props['pika.password'], 's3cret');
  assert.equal(cfg.props['filter.keys'], 'user:*');
});

test('runtime problems, unknown keys and the plugin\'s issues come in one error with lines', () => {
  const file = writeProps('bad.properties', [
    'name=pika source',
    'connector.class=PikaSource',
    'tasks.max=0',
    'pika.port=abc',
    'pika.hots=127.0.0.1',
    'exactly.once.support=always',
    'transaction.boundary=connector',
    'errors.tolerance=some',
    'errors.deadletterqueue.topic.name=bad topic',
    'errors.log.enable=yes',
    'transforms=unwrap',
  ]);
  assert.deepEqual(problemsOf(() => loadConnectorConfig(file, plugins, {})), [
    `${file}:1 name: may only hold letters, digits, ".", "_" and "-", got "pika source"`,
    `${file}:3 tasks.max: must be a positive integer, got "0"`,
    `${file}:4 pika.port: must be a port number`,
    `${file}:5 pika.hots: unknown connector key; did you mean pika.host?`,
    `${file}:6 exactly.once.support: must be one of required, requested, got "always"`,
    `${file}:7 transaction.boundary: must be one of poll, interval (connector-defined boundaries are not supported), got "connector"`,
    `${file}:8 errors.tolerance: must be one of none, all, got "some"`,
    `${file}:9 errors.deadletterqueue.topic.name: must be a Kafka topic name: 1 to 249 of letters, digits, ".", "_" and "-", not "." or "..", got "bad topic"`,
    `${file}:10 errors.log.enable: must be true or false, got "yes"`,
    `${file}:11 transforms: unknown connector key; not supported by pika-connect: single message transforms are not implemented`,
    `${file} pika.host: required: address of the Pika master`,
  ]);
});

test('missing name and connector.class are named with the file', () => {
  const file = writeProps('empty.properties', ['pika.host=x']);
  assert.deepEqual(problemsOf(() => loadConnectorConfig(file, plugins, {})).map((p) => p.replace(/ \(.*$/, '')), [
    `${file} name: required key is missing`,
    `${file} connector.class: required key is missing`,
  ]);
});

test('an unknown connector class lists the known names; plugin keys are then not judged', () => {
  const file = writeProps('unknown-class.properties', ['name=c', 'connector.class=io.example.Nope', 'whatever=1']);
  assert.deepEqual(problemsOf(() => loadConnectorConfig(file, plugins, {})), [
    `${file}:2 connector.class: unknown connector class "io.example.Nope"; known: io.pika.connect.PikaSourceConnector, PikaSource`,
  ]);
  const bare = (cls: string) => (cls === 'X' ? fakePikaPlugin : undefined);
  assert.deepEqual(problemsOf(() => loadConnectorConfig(file, bare, {})), [
    `${file}:2 connector.class: unknown connector class "io.example.Nope"; no connector plugin is registered under this name`,
  ]);
});

test('a plugin whose validate() throws is reported, not crashed on', () => {
  const broken: ConnectorPlugin = {
    names: ['Broken'],
    create: () => ({ ...fakePikaPlugin.create(), validate: () => { throw new Error('boom'); } }),
  };
  const file = writeProps('broken.properties', ['name=c', 'connector.class=Broken']);
  assert.deepEqual(problemsOf(() => loadConnectorConfig(file, pluginLookup([broken]), {})), [
    `${file}: the connector plugin's validate() failed: boom`,
  ]);
});

test('transaction.boundary.interval.ms without transaction.boundary=interval is reported', () => {
  const file = writeProps('interval.properties', ['name=c', 'connector.class=PikaSource', 'pika.host=h', 'transaction.boundary.interval.ms=100']);
  assert.deepEqual(problemsOf(() => loadConnectorConfig(file, plugins, {})), [
    `${file}:4 transaction.boundary.interval.ms: only used with transaction.boundary=interval, but transaction.boundary is poll`,
  ]);
});

test('CONNECTOR_<NAME>_* variables override runtime and plugin keys; the plugin receives the result', () => {
  const file = writeProps('env.properties', ['name=pika-source', 'connector.class=PikaSource', 'pika.host=file-host']);
  const cfg = loadConnectorConfig(file, plugins, {
    CONNECTOR_PIKA_SOURCE_PIKA_HOST: 'env-host',
    CONNECTOR_PIKA_SOURCE_TASKS_MAX: '2',
    CONNECTOR_PIKA_SOURCE_PRODUCER_OVERRIDE_LINGER_MS: '9',
    CONNECTOR_OTHER_TASKS_MAX: 'not mine',
    CONNECT_CLIENT_ID: 'worker key',
  });
  assert.equal(cfg.props['pika.host'], 'env-host');
  assert.equal(cfg.tasksMax, 2);
  assert.deepEqual(cfg.producerOverrides, { 'linger.ms': '9' });
});

test('bad, unknown and name-changing connector variables are reported naming the variable', () => {
  const file = writeProps('env-bad.properties', ['name=pika', 'connector.class=PikaSource', 'pika.host=h']);
  const env = {
    CONNECTOR_PIKA_TASKS_MAX: 'many',
    CONNECTOR_PIKA_PIKA_HOTS: 'x',
    CONNECTOR_PIKA_NAME: 'other',
    CONNECTOR_PIKA_SOURCE_PIKA_HOST: 'for the sibling connector "pika-source"',
  };
  assert.deepEqual(problemsOf(() => loadConnectorConfig(file, plugins, env, { siblingNames: ['pika', 'pika-source'] })), [
    'env CONNECTOR_PIKA_NAME (name): the connector name cannot be set from the environment',
    'env CONNECTOR_PIKA_PIKA_HOTS (pika.hots): unknown connector key; did you mean pika.host?',
    'env CONNECTOR_PIKA_TASKS_MAX (tasks.max): must be a positive integer, got "many"',
  ]);
});

test('parseConnectorProps validates a map the same way', () => {
  const cfg = parseConnectorProps({ name: 'n', 'connector.class': 'PikaSource', 'pika.host': 'h' }, plugins);
  assert.equal(cfg.name, 'n');
  assert.deepEqual(problemsOf(() => parseConnectorProps({ name: 'n', 'connector.class': 'PikaSource' }, plugins, { source: 'POST /connectors' })), [
    'POST /connectors pika.host: required: address of the Pika master',
  ]);
});

test('checkConnectorProps answers per key without throwing (for a REST validate endpoint)', () => {
  const check = checkConnectorProps({ name: 'n', 'connector.class': 'PikaSource', 'tasks.max': 'x', 'pika.port': 'p' }, plugins);
  assert.equal(check.ok, false);
  assert.deepEqual(check.problems.map((p) => [p.key, p.message]), [
    ['tasks.max', 'must be a positive integer, got "x"'],
    ['pika.port', 'must be a port number'],
    ['pika.host', 'required: address of the Pika master'],
  ]);
  const good = checkConnectorProps({ name: 'n', 'connector.class': 'PikaSource', 'pika.host': 'h' }, plugins);
  assert.ok(good.ok && good.config.name === 'n');
});

test('a trailing comment written as in INI files gets a hint', () => {
  const file = writeProps('trailing-comment.properties', ['name=c', 'connector.class=PikaSource', 'pika.host=h', 'tasks.max=2  # two tasks']);
  assert.deepEqual(problemsOf(() => loadConnectorConfig(file, plugins, {})), [
    `${file}:4 tasks.max: must be a positive integer, got "2  # two tasks" ("#" starts a comment only at the beginning of a line)`,
  ]);
});
