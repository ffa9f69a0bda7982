import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subjectNameStrategy } from '../../../../../runtime/converters/avro/subject-strategy.ts';
import { ConfigError, ConnectError } from '../../../../../runtime/api/errors.ts';

const PKG = 'io.confluent.kafka.serializers.subject.';

test('TopicNameStrategy is the default: <topic>-key / <topic>-value', () => {
  const s = subjectNameStrategy(undefined, 'value.subject.name.strategy');
  assert.equal(s('pika.events', false, 'io.pika.connect.PikaEvent'), 'pika.events-value');
  assert.equal(s('pika.events', true, undefined), 'pika.events-key');
  assert.equal(subjectNameStrategy(`${PKG}TopicNameStrategy`, 'k')('t', false, undefined), 't-value');
});

test('RecordNameStrategy uses the full record name, TopicRecordNameStrategy <topic>-<full name>', () => {
  for (const name of ['RecordNameStrategy', `${PKG}RecordNameStrategy`]) {
    assert.equal(subjectNameStrategy(name, 'k')('t', false, 'io.pika.connect.PikaEvent'), 'io.pika.connect.PikaEvent');
  }
  for (const name of ['TopicRecordNameStrategy', `${PKG}TopicRecordNameStrategy`]) {
    assert.equal(subjectNameStrategy(name, 'k')('pika.events', true, 'io.pika.connect.PikaEventKey'), 'pika.events-io.pika.connect.PikaEventKey');
  }
});

test('record-name strategies refuse unnamed (primitive) schemas with a clear error', () => {
  assert.throws(() => subjectNameStrategy('RecordNameStrategy', 'k')('t', false, undefined), (err: unknown) =>
    err instanceof ConnectError && /RecordNameStrategy needs a named Avro schema/.test(err.message));
});

test('an unknown strategy is a config error listing the known names', () => {
  assert.throws(() => subjectNameStrategy('TopicNamingStrategy', 'value.subject.name.strategy'), (err: unknown) =>
    err instanceof ConfigError && /value.subject.name.strategy: unknown subject name strategy "TopicNamingStrategy"/.test(err.message) &&
    err.message.includes(`${PKG}TopicRecordNameStrategy`));
});
