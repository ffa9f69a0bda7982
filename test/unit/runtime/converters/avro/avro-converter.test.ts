import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvroConverter, avroConverterPlugin } from '../../../../../runtime/converters/avro/index.ts';
import { ConnectError, RetriableError } from '../../../../../runtime/api/errors.ts';
import type { SourceRecord } from '../../../../../runtime/api/record.ts';
import { FakeRegistry } from '../../../../helpers/registry.ts';

const URL_ = 'http://registry.test/apis/ccompat/v7';
const SCHEMA = {
  type: 'record', name: 'Change', namespace: 'test.avro',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'payload', type: ['null', 'bytes'], default: null },
  ],
};
const schemaFile = join(mkdtempSync(join(tmpdir(), 'avro-conv-')), 'change.avsc');
writeFileSync(schemaFile, JSON.stringify(SCHEMA));

const record = (extra: Partial<SourceRecord> & Record<string, unknown> = {}): SourceRecord =>
  ({ sourcePartition: {}, sourceOffset: {}, topic: 't', key: null, value: null, ...extra }) as SourceRecord;

function converter(registry: FakeRegistry, props: Record<string, string> = {}, isKey = false): AvroConverter {
  const c = new AvroConverter(registry.fetch);
  c.configure({ 'schema.registry.url': URL_, 'schema.file': schemaFile, ...props }, isKey);
  return c;
}

const connectError = (code: string, pattern: RegExp, retriable = false) => (err: unknown) =>
  err instanceof ConnectError && err.code === code && err.retriable === retriable && err.stage === 'convert' && pattern.test(err.message);

test('writes Confluent wire format: 0x00, the registered id, the Avro body; decodes back', async () => {
  const registry = new FakeRegistry();
  const c = converter(registry);
  const bytes = await c.fromConnectData('t', { id: 3, payload: 'AQI=' }, record());
  // id 3 → zigzag 06; union branch 1 → 02; bytes len 2 → 04 01 02
  assert.equal(bytes!.toString('hex'), '00' + '00000001' + '06' + '02040102');
  assert.deepEqual(registry.calls, [{ method: 'POST', path: '/apis/ccompat/v7/subjects/t-value/versions' }]);
  assert.equal(JSON.parse(registry.schemas[0]!).name, 'Change');
  assert.deepEqual(await converter(new FakeRegistry()).toConnectData('t', null), null);
  const reader = new AvroConverter(registry.fetch);
  reader.configure({ 'schema.registry.url': URL_ }, false);
  assert.deepEqual(await reader.toConnectData('t', bytes), { id: 3, payload: Buffer.from([1, 2]) });
});

test('the registry is called once per subject+schema and once per id, not per record', async () => {
  const registry = new FakeRegistry();
  const writer = converter(registry);
  const all = await Promise.all(Array.from({ length: 50 }, (_, i) => writer.fromConnectData('t', { id: i }, record())));
  for (let i = 0; i < 50; i++) all.push(await writer.fromConnectData('t', { id: i }, record()));
  assert.equal(registry.calls.length, 1);
  await writer.fromConnectData('other', { id: 1 }, record());
  assert.equal(registry.calls.length, 2, 'a new topic is a new subject');
  const reader = new AvroConverter(registry.fetch);
  reader.configure({ 'schema.registry.url': URL_ }, false);
  for (const bytes of all) await reader.toConnectData('t', bytes);
  assert.equal(registry.calls.filter((c) => c.path.includes('/schemas/ids/')).length, 1);
});

test('null values stay null (tombstones) without touching the registry', async () => {
  const registry = new FakeRegistry();
  assert.equal(await converter(registry).fromConnectData('t', null, record()), null);
  assert.equal(registry.calls.length, 0);
});

test('registry unreachable → RetriableError naming the URL; the failure is not cached', async () => {
  const registry = new FakeRegistry();
  const c = converter(registry);
  registry.failWith = 'network';
  await assert.rejects(c.fromConnectData('t', { id: 1 }, record()), (err: unknown) =>
    err instanceof RetriableError && err.code === 'SCHEMA_REGISTRY_UNAVAILABLE' && /schema registry unreachable .*http:\/\/registry.test.*ECONNREFUSED/.test(err.message));
  registry.failWith = { status: 503, body: { error_code: 50301, message: 'storage not ready' } };
  await assert.rejects(c.fromConnectData('t', { id: 1 }, record()), connectError('SCHEMA_REGISTRY_UNAVAILABLE', /HTTP 503 .*storage not ready/, true));
  registry.failWith = undefined;
  assert.ok(await c.fromConnectData('t', { id: 1 }, record()));
});

test('an incompatible schema → ConnectError naming the subject and the compatibility rule', async () => {
  const registry = new FakeRegistry();
  registry.compatible = () => false;
  await converter(registry, {}).fromConnectData('t', { id: 1 }, record());
  const changed = { ...SCHEMA, fields: [...SCHEMA.fields, { name: 'must', type: 'string' }] };
  await assert.rejects(converter(registry).fromConnectData('t', { id: 1, must: 'x' }, record({ valueSchema: changed })),
    connectError('SCHEMA_INCOMPATIBLE', /subject "t-value": it breaks the subject's BACKWARD compatibility rule .*incompatible/));
});

test('credentials are sent; a 401 names the auth settings', async () => {
  const registry = new FakeRegistry();
  const c = converter(registry, { 'basic.auth.credentials.source': 'USER_INFO', 'basic.auth.user.info': 'u:p' });
  await c.fromConnectData('t', { id: 1 }, record());
  assert.equal(registry.lastAuthorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
  registry.failWith = { status: 401, body: { error_code: 401, message: 'Unauthorized' } };
  await assert.rejects(converter(registry).fromConnectData('t', { id: 1 }, record()),
    connectError('SCHEMA_REGISTRY_AUTH', /subject "t-value" \(HTTP 401\): check basic.auth/));
});

test('auto.register.schemas=false only looks the schema up', async () => {
  const registry = new FakeRegistry();
  const c = converter(registry, { 'auto.register.schemas': 'false' });
  await assert.rejects(c.fromConnectData('t', { id: 1 }, record()), connectError('SCHEMA_NOT_REGISTERED', /not registered under subject "t-value" and auto.register.schemas=false/));
  await converter(registry).fromConnectData('t', { id: 1 }, record());
  const bytes = await c.fromConnectData('t', { id: 1 }, record());
  assert.equal(bytes!.readInt32BE(1), 1);
  assert.deepEqual(registry.calls.map((x) => `${x.method} ${x.path.replace('/apis/ccompat/v7', '')}`), ['POST /subjects/t-value', 'POST /subjects/t-value/versions', 'POST /subjects/t-value']);
});

test('use.latest.version writes with the latest registered schema, fetched once', async () => {
  const registry = new FakeRegistry();
  const v2 = { ...SCHEMA, fields: [...SCHEMA.fields, { name: 'note', type: ['null', 'string'], default: null }] };
  await converter(registry).fromConnectData('t', { id: 1 }, record());
  await converter(registry).fromConnectData('t', { id: 1 }, record({ valueSchema: v2 }));
  const latest = new AvroConverter(registry.fetch);
  latest.configure({ 'schema.registry.url': URL_, 'auto.register.schemas': 'false', 'use.latest.version': 'true' }, false);
  const before = registry.calls.length;
  const bytes = await latest.fromConnectData('t', { id: 9, note: 'n' }, record());
  await latest.fromConnectData('t', { id: 10 }, record());
  assert.equal(bytes!.readInt32BE(1), 2);
  assert.equal(registry.calls.length - before, 1);
  assert.deepEqual(await latest.toConnectData('t', bytes), { id: 9, payload: null, note: 'n' });
});

test('subjects follow the strategy; the key side uses <topic>-key', async () => {
  const registry = new FakeRegistry();
  await converter(registry, { 'value.subject.name.strategy': 'RecordNameStrategy' }).fromConnectData('t', { id: 1 }, record());
  await converter(registry, { 'key.subject.name.strategy': 'TopicRecordNameStrategy' }, true).fromConnectData('t', { id: 1 }, record());
  await converter(registry, {}, true).fromConnectData('t', { id: 1 }, record());
  assert.deepEqual([...registry.subjects.keys()], ['test.avro.Change', 't-test.avro.Change', 't-key']);
});

test('a record-supplied schema (JSON text or object) wins over schema.file', async () => {
  const registry = new FakeRegistry();
  const c = converter(registry);
  const keySchema = JSON.stringify({ type: 'record', name: 'K', fields: [{ name: 'k', type: 'string' }] });
  await c.fromConnectData('t', { k: 'x' }, record({ valueSchema: keySchema }));
  assert.equal(JSON.parse(registry.schemas[0]!).name, 'K');
  await assert.rejects(c.fromConnectData('t', { id: 1 }, record({ valueSchema: '{"type": "nope"}' })), connectError('AVRO_SCHEMA', /record valueSchema is not a valid Avro schema/));
});

test('without any schema source the error says how to give one', async () => {
  const c = new AvroConverter(new FakeRegistry().fetch);
  c.configure({ 'schema.registry.url': URL_ }, false);
  await assert.rejects(c.fromConnectData('t', { id: 1 }, record()), connectError('AVRO_NO_SCHEMA', /topic t: no Avro schema .*value.converter.schema.file/));
});

test('values that do not fit name topic, subject and field', async () => {
  await assert.rejects(converter(new FakeRegistry()).fromConnectData('orders', { id: 'x' }, record()),
    connectError('AVRO_MAPPING', /topic orders, subject "orders-value": value does not fit Avro schema test.avro.Change at id: expected a long/));
});

test('decoding unknown ids or foreign bytes fails clearly', async () => {
  const registry = new FakeRegistry();
  const c = converter(registry);
  await assert.rejects(c.toConnectData('t', Buffer.from('0000000063', 'hex')), connectError('SCHEMA_NOT_FOUND', /schema id 99 is unknown/));
  await assert.rejects(c.toConnectData('t', Buffer.from('{"a":1}')), connectError('AVRO_WIRE_FORMAT', /magic byte 0x7b/));
  const bytes = await c.fromConnectData('t', { id: 1 }, record());
  await assert.rejects(c.toConnectData('t', bytes!.subarray(0, 5)), connectError('AVRO_DECODE', /do not decode with schema id 1/));
});

test('invalid schema.file is a config error at configure time', () => {
  const bad = join(mkdtempSync(join(tmpdir(), 'avro-conv-')), 'bad.avsc');
  writeFileSync(bad, '{"type": "record", "name": "X"}');
  assert.throws(() => new AvroConverter().configure({ 'schema.registry.url': URL_, 'schema.file': bad }, false), /schema.file .*bad.avsc: not a valid Avro schema/);
});

test('the plugin answers to the Kafka Connect class name and the alias', () => {
  assert.deepEqual(avroConverterPlugin.names, ['io.confluent.connect.avro.AvroConverter', 'avro']);
  assert.ok(avroConverterPlugin.create() instanceof AvroConverter);
});

test('values larger than the scratch buffer encode and decode intact', async () => {
  const registry = new FakeRegistry();
  const c = converter(registry);
  const big = Buffer.alloc(300_000, 7);
  const bytes = await c.fromConnectData('t', { id: 1, payload: big }, record());
  const small = await c.fromConnectData('t', { id: 2 }, record());
  assert.deepEqual(await c.toConnectData('t', bytes), { id: 1, payload: big });
  assert.deepEqual(await c.toConnectData('t', small), { id: 2, payload: null });
});

test('the schema is registered as compact JSON: reformatting the file does not make a new version', async () => {
  const registry = new FakeRegistry();
  const pretty = join(mkdtempSync(join(tmpdir(), 'avro-conv-')), 'pretty.avsc');
  writeFileSync(pretty, JSON.stringify(SCHEMA, null, 4));
  await converter(registry).fromConnectData('t', { id: 1 }, record());
  const c = new AvroConverter(registry.fetch);
  c.configure({ 'schema.registry.url': URL_, 'schema.file': pretty }, false);
  await c.fromConnectData('t', { id: 1 }, record());
  assert.deepEqual(registry.schemas, [JSON.stringify(SCHEMA)]);
  assert.equal(registry.subjects.get('t-value')!.length, 1);
});
