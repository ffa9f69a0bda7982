// The keys of a connector file that the runtime owns (Kafka Connect's ConnectorConfig + SourceConnectorConfig
// names). Every other key belongs to the connector plugin.
import * as f from './formats.ts';
import type { ConfigSchema } from './schema.ts';

export const TOPIC_CREATION_PREFIX = 'topic.creation.';
export const DEFAULT_GROUP = 'default';

export const connectorSchema: ConfigSchema = {
  title: 'connector',
  keys: [
    { name: 'name', format: f.connectorName, required: true, doc: 'Unique name of the connector.' },
    {
      name: 'connector.class', format: f.nonEmptyString, required: true,
      doc: 'Class name (or alias) of the connector plugin, e.g. io.pika.connect.PikaSourceConnector.',
    },
    { name: 'tasks.max', format: f.positiveInt, default: '1', doc: 'Maximum number of tasks of this connector.' },
    { name: 'key.converter', format: f.className, doc: 'Overrides the worker\'s key.converter for this connector.' },
    { name: 'value.converter', format: f.className, doc: 'Overrides the worker\'s value.converter for this connector.' },
    {
      name: 'exactly.once.support', format: f.oneOf(['required', 'requested']), default: 'requested',
      doc: 'required: refuse to start unless the connector confirms it can deliver exactly once. requested: start anyway.',
    },
    {
      name: 'transaction.boundary', format: f.oneOf(['poll', 'interval'], { hint: 'connector-defined boundaries are not supported' }),
      default: 'poll',
      doc: 'poll: one transaction per batch returned by a task\'s poll(). interval: commit every transaction.boundary.interval.ms.',
    },
    {
      name: 'transaction.boundary.interval.ms', format: f.nonNegativeMs,
      doc: 'Commit interval when transaction.boundary=interval; unset means the worker\'s offset.flush.interval.ms. '
        + 'Only valid with transaction.boundary=interval.',
    },
    {
      name: 'task.thread.enable', format: f.boolean, default: 'false',
      doc: 'Run each task and its key/value converters (poll, conversion, dead-letter decisions) on a worker thread of '
        + 'its own; the main thread keeps only the Kafka producer, the transactions and the offsets. Exactly-once is '
        + 'unchanged. Pika binlog: the main thread\'s CPU per event halves (~32 → ~16 µs) but the total grows by ~25% '
        + '(~41 → ~52 µs), so it raises throughput only when the worker has a second core to spare; on a machine '
        + 'whose cores are busy leave it off. Bundled connectors only.',
    },
    {
      name: 'topic.creation.enable', format: f.boolean, default: 'true',
      doc: 'Create missing topics before writing to them, with the settings of the first matching topic creation group.',
    },
    {
      name: 'topic.creation.groups', format: f.groupAliasList, default: '',
      doc: 'Topic creation groups besides "default", in matching order. Each group <g> takes topic.creation.<g>.include '
        + '(regex list, required), .exclude (regex list), .replication.factor and .partitions (default: the default '
        + 'group\'s) and any other topic config, e.g. topic.creation.<g>.cleanup.policy=compact. A topic gets the first '
        + 'group whose include matches and exclude does not; "default" matches every other topic.',
    },
    {
      name: 'topic.creation.default.replication.factor', format: f.replicationFactor, default: '-1',
      doc: 'Replication factor of created topics; -1 uses the broker default.',
    },
    {
      name: 'topic.creation.default.partitions', format: f.partitionCount, default: '-1',
      doc: 'Partitions of created topics; -1 uses the broker default.',
    },
    {
      name: 'errors.retry.timeout', format: f.retryTimeoutMs, default: '0',
      doc: 'How long a failed operation is retried, in ms; 0 means no retries, -1 retries forever.',
    },
    {
      name: 'errors.retry.delay.max.ms', format: f.nonNegativeMs, default: '60000',
      doc: 'Upper bound of the growing delay between retries.',
    },
    {
      name: 'errors.tolerance', format: f.oneOf(['none', 'all']), default: 'none',
      doc: 'none: an error fails the task. all: records that fail conversion are skipped (or sent to the dead letter queue).',
    },
    {
      name: 'errors.deadletterqueue.topic.name', format: f.topicName,
      doc: 'Topic that receives records skipped under errors.tolerance=all; unset means no dead letter queue.',
    },
    {
      name: 'errors.deadletterqueue.context.headers.enable', format: f.boolean, default: 'false',
      doc: 'Add headers describing the error to dead letter queue records.',
    },
    {
      name: 'errors.log.enable', format: f.boolean, default: 'false',
      doc: 'Log each error that is tolerated.',
    },
  ],
  prefixes: [
    { prefix: 'key.converter.', doc: 'Settings of this connector\'s key converter (prefix removed).' },
    { prefix: 'value.converter.', doc: 'Settings of this connector\'s value converter (prefix removed).' },
    { prefix: 'producer.override.', doc: 'Kafka producer settings for this connector (prefix removed), over the worker\'s producer.* keys.' },
    {
      prefix: 'topic.creation.default.',
      doc: 'Other topic configs of created topics (prefix removed), e.g. topic.creation.default.cleanup.policy=compact.',
    },
  ],
  notSupported: [
    { key: 'transforms', reason: 'single message transforms are not implemented' },
    { key: 'transforms.', reason: 'single message transforms are not implemented' },
    { key: 'predicates', reason: 'predicates (of transforms) are not implemented' },
    { key: 'predicates.', reason: 'predicates (of transforms) are not implemented' },
    { key: 'header.converter', reason: 'header converters are not implemented' },
    { key: 'offsets.storage.topic', reason: 'all connectors use the worker\'s offset.storage.topic' },
    { key: 'config.action.reload', reason: 'connector configs are files read at start' },
    { key: 'errors.log.include.messages', reason: 'not implemented; errors.log.enable turns the logging of tolerated errors on' },
  ],
};
