import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseAvroConverterConfig } from '../../../../../runtime/converters/avro/converter-config.ts';
import { ConfigError } from '../../../../../runtime/api/errors.ts';

const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
const URL_ = 'http://127.0.0.1:18081/apis/ccompat/v7';

function problems(props: Record<string, string>, isKey = false): string[] {
  try {
    parseAvroConverterConfig(props, isKey, repoRoot);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

test('defaults follow Confluent: auto.register.schemas=true, use.latest.version=false, TopicNameStrategy', () => {
  const c = parseAvroConverterConfig({ 'schema.registry.url': `${URL_}/` }, false, repoRoot);
  assert.deepEqual(c.urls, [URL_]);
  assert.equal(c.autoRegister, true);
  assert.equal(c.useLatestVersion, false);
  assert.equal(c.subjectStrategy('t', false, undefined), 't-value');
  assert.equal(c.authorization, undefined);
  assert.equal(c.requestTimeoutMs, 30000);
});

test('schema.file is read relative to the working directory', () => {
  const c = parseAvroConverterConfig({ 'schema.registry.url': URL_, 'schema.file': 'schemas/pika-event-value.v1.avsc' }, false, repoRoot);
  assert.match(c.schemaText!, /"name": "PikaEvent"/);
  assert.match(problems({ 'schema.registry.url': URL_, 'schema.file': 'schemas/nope.avsc' })[0]!, /schema.file: cannot read .*schemas\/nope.avsc/);
});

test('the side picks its own subject strategy key', () => {
  const props = { 'schema.registry.url': URL_, 'key.subject.name.strategy': 'RecordNameStrategy', 'value.subject.name.strategy': 'io.confluent.kafka.serializers.subject.TopicRecordNameStrategy' };
  assert.equal(parseAvroConverterConfig(props, true, repoRoot).subjectStrategy('t', true, 'a.K'), 'a.K');
  assert.equal(parseAvroConverterConfig(props, false, repoRoot).subjectStrategy('t', false, 'a.V'), 't-a.V');
});

test('basic auth: USER_INFO, or credentials in the URL moved into the header', () => {
  const info = parseAvroConverterConfig({ 'schema.registry.url': URL_, 'basic.auth.credentials.source': 'USER_INFO', 'basic.auth.user.info': 'u:p@ss' }, false, repoRoot);
  assert.equal(info.authorization, `Basic ${Buffer.from('u:p@ss').toString('base64')}`);
  const inUrl = parseAvroConverterConfig({ 'schema.registry.url': 'http://bob:s%3Acret@127.0.0.1:18081/api' }, false, repoRoot);
  assert.equal(inUrl.authorization, `Basic ${Buffer.from('bob:s:cret').toString('base64')}`);
  assert.deepEqual(inUrl.urls, ['http://127.0.0.1:18081/api']);
});

test('every problem is listed at once with the key it concerns', () => {
  const found = problems({
    'schema.registry.ur': URL_,
    'auto.register.schemas': 'yes',
    'basic.auth.credentials.source': 'SASL_INHERIT',
    'value.subject.name.strategy': 'Nope',
    'schema.registry.request.timeout.ms': '-1',
  });
  assert.ok(found.some((p) => /unknown AvroConverter setting "schema.registry.ur"/.test(p)));
  assert.ok(found.some((p) => /schema.registry.url is required for the value AvroConverter/.test(p)));
  assert.ok(found.some((p) => /auto.register.schemas must be true or false, got "yes"/.test(p)));
  assert.ok(found.some((p) => /SASL_INHERIT is not supported/.test(p)));
  assert.ok(found.some((p) => /value.subject.name.strategy: unknown subject name strategy "Nope"/.test(p)));
  assert.ok(found.some((p) => /schema.registry.request.timeout.ms must be a positive integer/.test(p)));
});

test('use.latest.version needs auto.register.schemas=false; USER_INFO needs user info; URLs are checked', () => {
  assert.match(problems({ 'schema.registry.url': URL_, 'use.latest.version': 'true' })[0]!, /use.latest.version=true needs auto.register.schemas=false/);
  assert.match(problems({ 'schema.registry.url': URL_, 'basic.auth.credentials.source': 'USER_INFO' })[0]!, /needs basic.auth.user.info/);
  assert.match(problems({ 'schema.registry.url': 'localhost:8081' })[0]!, /must use http or https|is not a URL/);
});
