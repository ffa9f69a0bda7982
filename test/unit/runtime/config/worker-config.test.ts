import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadWorkerConfig, parseWorkerProps } from '../../../../runtime/config/index.ts';
import { problemsOf, writeProps } from './helpers.ts';

test('a minimal worker file gets Kafka Connect-like defaults', () => {
  const file = writeProps('minimal-worker.properties', ['bootstrap.servers=127.0.0.1:19092']);
  const cfg = loadWorkerConfig(file, {});
  assert.deepEqual({ ...cfg, raw: undefined }, {
    file,
    bootstrapServers: ['127.0.0.1:19092'],
    offsetStorageTopic: 'connect-offsets',
    offsetStoragePartitions: 25,
    offsetStorageReplicationFactor: -1,
    offsetFlushIntervalMs: 60000,
    offsetCheckpointDir: './data/checkpoints',
    clientId: 'pika-connect',
    listeners: ['http://127.0.0.1:8083'],
    keyConverter: 'org.apache.kafka.connect.json.JsonConverter',
    valueConverter: 'org.apache.kafka.connect.json.JsonConverter',
    keyConverterProps: {},
    valueConverterProps: {},
    producerProps: {},
    consumerProps: {},
    adminProps: {},
    securityProps: {},
    taskShutdownGracefulTimeoutMs: 5000,
    logLevel: 'info',
    exactlyOnceSourceSupport: 'enabled',
    connectorRestartBackoffMaxMs: 60000,
    raw: undefined,
  });
  assert.deepEqual(cfg.raw, { 'bootstrap.servers': '127.0.0.1:19092' });
});

test('typed values, trimmed lists, case-insensitive choices and pass-through maps', () => {
  const file = writeProps('full-worker.properties', [
    'bootstrap.servers = a.example:9092 , [::1]:9093',
    'offset.storage.topic=my-offsets',
    'offset.storage.partitions=-1',
    'offset.storage.replication.factor=3',
    'offset.flush.interval.ms=1000',
    'listeners=http://:8083, https://0.0.0.0:8443',
    'log.level=DEBUG',
    'exactly.once.source.support=Disabled',
    'security.protocol=sasl_ssl',
    'sasl.mechanism=PLAIN',
    'ssl.truststore.location=/etc/ts.jks',
    'producer.linger.ms=5',
    'consumer.max.poll.records=10',
    'admin.request.timeout.ms=3000',
    'key.converter.schemas.enable=false',
    'value.converter=io.confluent.connect.avro.AvroConverter',
    'value.converter.schema.registry.url=http://registry:8081',
  ]);
  const cfg = loadWorkerConfig(file, {});
  assert.deepEqual(cfg.bootstrapServers, ['a.example:9092', '[::1]:9093']);
  assert.equal(cfg.offsetStorageTopic, 'my-offsets');
  assert.equal(cfg.offsetStoragePartitions, -1);
  assert.equal(cfg.offsetStorageReplicationFactor, 3);
  assert.equal(cfg.offsetFlushIntervalMs, 1000);
  assert.deepEqual(cfg.listeners, ['http://:8083', 'https://0.0.0.0:8443']);
  assert.equal(cfg.logLevel, 'debug');
  assert.equal(cfg.exactlyOnceSourceSupport, 'disabled');
  assert.deepEqual(cfg.securityProps, {
    'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'PLAIN', 'ssl.truststore.location': '/etc/ts.jks',
  });
  assert.deepEqual(cfg.producerProps, { 'linger.ms': '5' });
  assert.deepEqual(cfg.consumerProps, { 'max.poll.records': '10' });
  assert.deepEqual(cfg.adminProps, { 'request.timeout.ms': '3000' });
  assert.deepEqual(cfg.keyConverterProps, { 'schemas.enable': 'false' });
  assert.equal(cfg.valueConverter, 'io.confluent.connect.avro.AvroConverter');
  assert.deepEqual(cfg.valueConverterProps, { 'schema.registry.url': 'http://registry:8081' });
});

test('every problem of a file comes in one ConfigError, each with file:line and key, in line order', () => {
  const file = writeProps('bad-worker.properties', [
    '# a worker file with many mistakes',
    'bootstrap.servers=broker1,broker2:99999',
    'offset.storage.partitions=0',
    'offset.storage.replication.factor=two',
    'log.level=verbose',
    'offset.checkpoint.dir=',
    'offset.flush.interval.ms=abc',
    '; an INI-style comment',
    'offset.storage.topc=x',
    'exactly.once.source.support=maybe',
    'offset.flush.interval.ms\\',
    '  =12s',
  ]);
  assert.deepEqual(problemsOf(() => loadWorkerConfig(file, {})), [
    `${file}:2 bootstrap.servers: must be a comma-separated list of host:port; bad: "broker1" (no port), "broker2:99999" (port must be in [1, 65535])`,
    `${file}:3 offset.storage.partitions: must be a positive integer or -1 (broker default), got "0"`,
    `${file}:4 offset.storage.replication.factor: must be an integer in [1, 32767] or -1 (broker default), got "two"`,
    `${file}:5 log.level: must be one of error, warn, info, debug, got "verbose"`,
    `${file}:6 offset.checkpoint.dir: must not be empty, got ""`,
    `${file}:8 ;: unknown worker key; lines starting with ";" are not comments in .properties files, use "#"`,
    `${file}:9 offset.storage.topc: unknown worker key; did you mean offset.storage.topic?`,
    `${file}:10 exactly.once.source.support: must be one of enabled, preparing, disabled, got "maybe"`,
    `${file}:11 offset.flush.interval.ms: set twice (also on line 7); remove one`,
    `${file}:11 offset.flush.interval.ms: must be a positive integer (milliseconds), got "12s"`,
  ]);
});

test('a missing required key names the file and the key', () => {
  const file = writeProps('empty-worker.properties', ['# nothing here']);
  const problems = problemsOf(() => loadWorkerConfig(file, {}));
  assert.equal(problems.length, 1);
  assert.match(problems[0] ?? '', new RegExp(`^${file} bootstrap\\.servers: required key is missing`));
});

test('CONNECT_* environment variables override worker keys, including pass-through ones', () => {
  const file = writeProps('env-worker.properties', ['bootstrap.servers=a:1', 'client.id=from-file']);
  const cfg = loadWorkerConfig(file, {
    CONNECT_BOOTSTRAP_SERVERS: 'b:2,c:3',
    CONNECT_CLIENT_ID: 'from-env',
    CONNECT_PRODUCER_LINGER_MS: '7',
    CONNECT_SASL_JAAS_CONFIG: 'secret',
    CONNECTOR_X_TASKS_MAX: '3', // a connector variable, not a worker one
    PATH: '/usr/bin',
  });
  assert.deepEqual(cfg.bootstrapServers, ['b:2', 'c:3']);
  assert.equal(cfg.clientId, 'from-env');
  assert.deepEqual(cfg.producerProps, { 'linger.ms': '7' });
  assert.equal(cfg.securityProps['sasl.jaas.config'], 'secret');
  assert.equal(cfg.raw['client.id'], 'from-env');
});

test('bad or unknown environment overrides are reported naming the variable', () => {
  const file = writeProps('env-bad-worker.properties', ['bootstrap.servers=a:1']);
  assert.deepEqual(problemsOf(() => loadWorkerConfig(file, {
    CONNECT_OFFSET_FLUSH_INTERVAL_MS: 'soon',
    CONNECT_OFFSET_FLUSH_INTERVALMS: '5',
    CONNECT_REST_PORT: '8083',
  })), [
    'env CONNECT_OFFSET_FLUSH_INTERVALMS (offset.flush.intervalms): unknown worker key; did you mean offset.flush.interval.ms?',
    'env CONNECT_REST_PORT (rest.port): unknown worker key; not supported by pika-connect: use listeners, e.g. listeners=http://0.0.0.0:8083',
    'env CONNECT_OFFSET_FLUSH_INTERVAL_MS (offset.flush.interval.ms): must be a positive integer (milliseconds), got "soon"',
  ]);
});

test('parseWorkerProps validates a map the same way and names its source', () => {
  assert.deepEqual(parseWorkerProps({ 'bootstrap.servers': 'k:9092' }).bootstrapServers, ['k:9092']);
  assert.deepEqual(problemsOf(() => parseWorkerProps({ 'bootstrap.servers': 'k', 'x.y': '1' }, { source: 'PUT /config' })), [
    'PUT /config bootstrap.servers: must be a comma-separated list of host:port; bad: "k" (no port)',
    'PUT /config x.y: unknown worker key',
  ]);
});
