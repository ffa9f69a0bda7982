// The worker's keys. Names follow Kafka Connect's worker config where the concept is the same.
import * as f from './formats.ts';
import type { ConfigSchema } from './schema.ts';
import { PEM_HINT, SUPPORTED_SASL_KEYS, SUPPORTED_SSL_KEYS } from '../kafka/security.ts';

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
      name: 'sasl.mechanism', format: f.oneOf(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], { upper: true, hint: 'GSSAPI (Kerberos) and OAUTHBEARER are not supported' }),
      doc: 'SASL mechanism with security.protocol=SASL_PLAINTEXT or SASL_SSL (required then).',
    },
    {
      name: 'sasl.jaas.config', format: f.nonEmptyString,
      doc: 'SASL credentials, as Kafka clients take them: org.apache.kafka.common.security.plain.PlainLoginModule required '
        + 'username="..." password="..."; (ScramLoginModule for the SCRAM mechanisms). Never logged or shown.',
    },
    {
      name: 'ssl.truststore.location', format: f.nonEmptyString,
      doc: 'PEM file with the CA certificate(s) that signed the brokers\' certificates; unset: the system\'s trusted CAs.',
    },
    {
      name: 'ssl.truststore.type', format: f.oneOf(['PEM'], { upper: true, hint: PEM_HINT.truststore }),
      doc: 'Format of the trust store: only PEM (unset means PEM).',
    },
    {
      name: 'ssl.truststore.certificates', format: f.nonEmptyString,
      doc: 'The trusted CA certificate(s) as PEM text, instead of ssl.truststore.location.',
    },
    {
      name: 'ssl.keystore.location', format: f.nonEmptyString,
      doc: 'PEM file with this client\'s private key followed by its certificate chain, for brokers that require client certificates.',
    },
    {
      name: 'ssl.keystore.type', format: f.oneOf(['PEM'], { upper: true, hint: PEM_HINT.keystore }),
      doc: 'Format of the key store: only PEM (unset means PEM).',
    },
    {
      name: 'ssl.keystore.key', format: f.nonEmptyString,
      doc: 'This client\'s private key as PEM text, with ssl.keystore.certificate.chain, instead of ssl.keystore.location.',
    },
    {
      name: 'ssl.keystore.certificate.chain', format: f.nonEmptyString,
      doc: 'This client\'s certificate chain as PEM text, with ssl.keystore.key.',
    },
    {
      name: 'ssl.key.password', format: f.nonEmptyString,
      doc: 'Password of an encrypted private key ("-----BEGIN ENCRYPTED PRIVATE KEY-----"). Never logged or shown.',
    },
    {
      name: 'ssl.endpoint.identification.algorithm', format: f.oneOf(['https']),
      doc: 'https (unset): the broker certificate must name the host in bootstrap.servers; empty: no host name check (the chain is still verified).',
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
  ],
  notSupported: [
    { key: 'plugin.path', reason: 'connector plugins are bundled with pika-connect' },
    { key: 'group.id', reason: 'there is no distributed mode; each worker runs the connector files it is given' },
    { key: 'config.storage.', reason: 'there is no distributed mode; connector configs are files' },
    { key: 'status.storage.', reason: 'there is no distributed mode; status is served by the REST interface' },
    { key: 'offset.storage.file.filename', reason: 'offsets are always kept in the offset.storage.topic topic' },
    { key: 'rest.port', reason: 'use listeners, e.g. listeners=http://0.0.0.0:8083' },
    { key: 'rest.host.name', reason: 'use listeners, e.g. listeners=http://0.0.0.0:8083' },
    { key: 'ssl.truststore.password', reason: 'trust stores are PEM files, which have no password' },
    { key: 'ssl.keystore.password', reason: 'key stores are PEM files; put the password of an encrypted private key in ssl.key.password' },
    { key: 'ssl.', reason: `supported TLS settings: ${SUPPORTED_SSL_KEYS.join(', ')}` },
    { key: 'sasl.', reason: `supported SASL settings: ${SUPPORTED_SASL_KEYS.join(', ')}` },
  ],
};
