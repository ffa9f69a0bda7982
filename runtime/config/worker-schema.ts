// The worker's keys. Names follow Kafka Connect's worker config where the concept is the same.
import * as f from './formats.ts';
import type { ConfigSchema } from './schema.ts';

export const DEFAULT_CONVERTER = 'org.apache.kafka.connect.json.JsonConverter';

export const workerSchema: ConfigSchema = {
  title: 'worker',
  keys: [
    {
      name: 'bootstrap.servers', format: f.hostPortList, required: true,
      doc: 'Kafka brokers to connect to first, as a comma-separated list of host:port.',
    },
    {
      name: 'offset.storage.topic', format: f.topicName, default: 'connect-offsets',
      doc: 'Topic holding source offsets, in Kafka Connect\'s layout (a Kafka Connect worker can read it). Created when missing, compacted.',
    },
    {
      name: 'offset.storage.partitions', format: f.partitionCount, default: '25',
      doc: 'Partitions of the offsets topic when it is created; -1 uses the broker default.',
    },
    {
      name: 'offset.storage.replication.factor', format: f.replicationFactor, default: '-1',
      doc: 'Replication factor of the offsets topic when it is created; -1 uses the broker default.',
    },
    {
      name: 'offset.flush.interval.ms', format: f.positiveMs, default: '60000',
      doc: 'How often offsets are committed. With exactly-once it is the default of a connector\'s transaction.boundary.interval.ms.',
    },
    {
      name: 'offset.checkpoint.dir', format: f.nonEmptyString, default: './data/checkpoints',
      doc: 'Directory of the human-readable local checkpoint files (a copy of the last committed offsets).',
    },
    {
      name: 'client.id', format: f.nonEmptyString, default: 'pika-connect',
      doc: 'Client id sent to Kafka; also the stem of producer client ids and transactional ids.',
    },
    {
      name: 'listeners', format: f.listenerList, default: 'http://127.0.0.1:8083',
      doc: 'Addresses of the REST interface, as a comma-separated list of http(s)://host:port; an empty host means all interfaces.',
    },
    {
      name: 'rest.basic.auth.user', format: f.nonEmptyString,
      doc: 'With rest.basic.auth.password: every REST request (including /metrics) needs these HTTP basic auth credentials.',
    },
    {
      name: 'rest.basic.auth.password', format: f.nonEmptyString,
      doc: 'Password of rest.basic.auth.user. Never shown by the REST API or in support bundles.',
    },
    {
      name: 'key.converter', format: f.className, default: DEFAULT_CONVERTER,
      doc: 'Converter of record keys, unless a connector overrides it. Configure it with key.converter.* keys.',
    },
    {
      name: 'value.converter', format: f.className, default: DEFAULT_CONVERTER,
      doc: 'Converter of record values, unless a connector overrides it. Configure it with value.converter.* keys.',
    },
    {
      name: 'task.shutdown.graceful.timeout.ms', format: f.nonNegativeMs, default: '5000',
      doc: 'How long a task may take to stop before it is abandoned.',
    },
    {
      name: 'log.level', format: f.oneOf(['error', 'warn', 'info', 'debug']), default: 'info',
      doc: 'Lowest level that is logged.',
    },
    {
      name: 'security.protocol', format: f.oneOf(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'], { upper: true }),
      doc: 'Protocol used to talk to the brokers; unset means PLAINTEXT. Goes with the sasl.* and ssl.* keys.',
    },
    {
      name: 'exactly.once.source.support', format: f.oneOf(['enabled', 'preparing', 'disabled']), default: 'enabled',
      doc: 'enabled: source records, offsets and transactions are written in Kafka transactions (exactly once). '
        + 'preparing: transactional ids are fenced but records are written without transactions (rolling upgrade step). '
        + 'disabled: at-least-once delivery.',
    },
    {
      name: 'connector.restart.backoff.max.ms', format: f.nonNegativeMs, default: '60000',
      doc: 'Upper bound of the growing delay between automatic restarts of a failed connector or task.',
    },
  ],
  prefixes: [
    { prefix: 'key.converter.', doc: 'Settings of the key converter (prefix removed), e.g. key.converter.schemas.enable.' },
    { prefix: 'value.converter.', doc: 'Settings of the value converter (prefix removed), e.g. value.converter.schema.registry.url.' },
    { prefix: 'producer.', doc: 'Kafka producer settings (prefix removed), e.g. producer.compression.type.' },
    { prefix: 'consumer.', doc: 'Kafka consumer settings (prefix removed), used to read the offsets topic.' },
    { prefix: 'admin.', doc: 'Kafka admin client settings (prefix removed), used to create topics.' },
    { prefix: 'sasl.', doc: 'SASL settings of every Kafka client, with their Kafka names (e.g. sasl.mechanism).' },
    { prefix: 'ssl.', doc: 'TLS settings of every Kafka client, with their Kafka names (e.g. ssl.truststore.location).' },
  ],
  notSupported: [
    { key: 'plugin.path', reason: 'connector plugins are bundled with pika-connect' },
    { key: 'group.id', reason: 'there is no distributed mode; each worker runs the connector files it is given' },
    { key: 'config.storage.', reason: 'there is no distributed mode; connector configs are files' },
    { key: 'status.storage.', reason: 'there is no distributed mode; status is served by the REST interface' },
    { key: 'offset.storage.file.filename', reason: 'offsets are always kept in the offset.storage.topic topic' },
    { key: 'rest.port', reason: 'use listeners, e.g. listeners=http://0.0.0.0:8083' },
    { key: 'rest.host.name', reason: 'use listeners, e.g. listeners=http://0.0.0.0:8083' },
  ],
};
