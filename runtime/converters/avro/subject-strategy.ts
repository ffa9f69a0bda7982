// Subject name strategies: which registry subject a topic's key or value schema is registered under.
// Names and behaviour follow Confluent's io.confluent.kafka.serializers.subject.* classes.
import { ConfigError, ConnectError } from '../../api/errors.ts';

export type SubjectNameStrategy = (topic: string, isKey: boolean, recordFullName: string | undefined) => string;

const topicName: SubjectNameStrategy = (topic, isKey) => `${topic}-${isKey ? 'key' : 'value'}`;

function requireName(strategy: string, fullName: string | undefined): string {
  if (fullName === undefined) {
    throw new ConnectError(`${strategy} needs a named Avro schema (record, enum or fixed); this schema has no name. Use TopicNameStrategy for primitive schemas`, {
      code: 'AVRO_SUBJECT', stage: 'convert',
    });
  }
  return fullName;
}

const recordName: SubjectNameStrategy = (_topic, _isKey, fullName) => requireName('RecordNameStrategy', fullName);

const topicRecordName: SubjectNameStrategy = (topic, _isKey, fullName) =>
  `${topic}-${requireName('TopicRecordNameStrategy', fullName)}`;

const PACKAGE = 'io.confluent.kafka.serializers.subject.';
const STRATEGIES: Record<string, SubjectNameStrategy> = {
  TopicNameStrategy: topicName,
  RecordNameStrategy: recordName,
  TopicRecordNameStrategy: topicRecordName,
};

/** The names a user may write: Confluent's full class names or the bare class names. */
export const SUBJECT_STRATEGY_NAMES = Object.keys(STRATEGIES).flatMap((n) => [PACKAGE + n, n]);

/** Resolves a strategy by Confluent class name or short name; `key` names the config key in errors. */
export function subjectNameStrategy(name: string | undefined, key: string): SubjectNameStrategy {
  if (name === undefined || name.trim() === '') return topicName;
  const trimmed = name.trim();
  const short = trimmed.startsWith(PACKAGE) ? trimmed.slice(PACKAGE.length) : trimmed;
  const strategy = STRATEGIES[short];
  if (!strategy) throw new ConfigError([`${key}: unknown subject name strategy "${name}"; known: ${SUBJECT_STRATEGY_NAMES.join(', ')}`]);
  return strategy;
}
