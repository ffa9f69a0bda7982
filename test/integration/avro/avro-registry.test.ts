// AvroConverter against a real Confluent-compatible registry (Apicurio from scripts/registry.sh). Needs REGISTRY_URL
// (e.g. http://127.0.0.1:18081/apis/ccompat/v7); skips with a message when it is not set. Subjects are unique per
// run, so a long-lived registry can be reused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AvroConverter } from '../../../runtime/converters/avro/index.ts';
import { ConnectError, RetriableError } from '../../../runtime/api/errors.ts';
import type { SourceRecord } from '../../../runtime/api/record.ts';
import { countingFetch, registryUrlOrSkip, uniqueName } from '../../helpers/registry.ts';

const target = registryUrlOrSkip();
const skip = 'skip' in target ? target.skip : false;
const url = 'url' in target ? target.url : '';
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const VALUE_SCHEMA_FILE = `${repoRoot}schemas/pika-event-value.v1.avsc`;

const record = (extra: Record<string, unknown> = {}): SourceRecord =>
  ({ sourcePartition: {}, sourceOffset: {}, topic: 't', key: null, value: null, ...extra }) as SourceRecord;

function event(i: number): Record<string, unknown> {
  const key = Buffer.from(`user:${i}\xff`, 'latin1');
  return {
    event_type: 'binlog', op: 'set', data_type: 'string', db: 0, slot: null, key: null, key_b64: key.toString('base64'),
    args_b64: [key.toString('base64'), Buffer.from(`value-${i}`).toString('base64')], raw_resp_b64: null,
    ts_ms: 1763800000000 + i, event_id: `1:0:${i * 100}:${i}`, source_id: 'it',
    binlog: { filenum: 0, offset: i * 100, end_filenum: 0, end_offset: i * 100 + 50, logic_id: i, server_id: null, term_id: 1 },
    source: { host: '127.0.0.1', port: 9221, replication_id: 'r1' }, expire_at_ms: i % 2 ? 1763900000000 : null, warnings: [],
  };
}

function converter(props: Record<string, string>, fetchImpl?: ConstructorParameters<typeof AvroConverter>[0], isKey = false): AvroConverter {
  const c = new AvroConverter(fetchImpl);
  c.configure({ 'schema.registry.url': url, ...props }, isKey);
  return c;
}

async function registryJson(path: string): Promise<unknown> {
  const response = await fetch(url + path);
  return response.json();
}

test('registers the Pika event schema, encodes, decodes with a fresh converter; registry answers with the same id', { skip }, async () => {
  const topic = uniqueName('it.events');
  const writer = converter({ 'schema.file': VALUE_SCHEMA_FILE });
  const bytes = (await writer.fromConnectData(topic, event(1), record()))!;
  assert.equal(bytes[0], 0);
  const id = bytes.readInt32BE(1);
  const latest = (await registryJson(`/subjects/${topic}-value/versions/latest`)) as { id: number; schema: string };
  assert.equal(latest.id, id);
  assert.equal(JSON.parse(latest.schema).name, 'PikaEvent');
  const decoded = (await converter({}).toConnectData(topic, bytes)) as Record<string, unknown>;
  assert.deepEqual(decoded.key_b64, Buffer.from('user:1\xff', 'latin1'));
  assert.deepEqual(decoded.binlog, { filenum: 0, offset: 100, end_filenum: 0, end_offset: 150, logic_id: 1, server_id: null, term_id: 1 });
  assert.equal(decoded.expire_at_ms, 1763900000000);
  assert.equal(decoded.snapshot, null);
});

test('registry calls are cached: one registration per subject+schema, one schema fetch per id', { skip }, async () => {
  const topic = uniqueName('it.cache');
  const writes = countingFetch();
  const writer = converter({ 'schema.file': VALUE_SCHEMA_FILE }, writes.fetch);
  const all: Buffer[] = [];
  for (let i = 0; i < 200; i++) all.push((await writer.fromConnectData(topic, event(i), record()))!);
  assert.deepEqual(writes.calls, [{ method: 'POST', path: `/subjects/${topic}-value/versions` }]);
  const reads = countingFetch();
  const reader = converter({}, reads.fetch);
  for (const bytes of all) await reader.toConnectData(topic, bytes);
  assert.equal(reads.calls.length, 1);
  assert.match(reads.calls[0]!.path, /^\/schemas\/ids\/\d+$/);
});

test('BACKWARD evolution: a nullable field with a default registers as version 2; old bytes still decode', { skip }, async () => {
  const topic = uniqueName('it.evolve');
  const v1 = converter({ 'schema.file': VALUE_SCHEMA_FILE });
  const oldBytes = (await v1.fromConnectData(topic, event(1), record()))!;
  const { readFileSync } = await import('node:fs');
  const base = JSON.parse(readFileSync(VALUE_SCHEMA_FILE, 'utf8')) as { fields: unknown[] };
  const v2Schema = { ...base, fields: [...base.fields, { name: 'origin_cluster', type: ['null', 'string'], default: null, doc: 'added in v2' }] };
  const newBytes = (await v1.fromConnectData(topic, { ...event(2), origin_cluster: 'eu' }, record({ valueSchema: v2Schema })))!;
  assert.notEqual(newBytes.readInt32BE(1), oldBytes.readInt32BE(1));
  assert.deepEqual(await registryJson(`/subjects/${topic}-value/versions`), [1, 2]);
  const reader = converter({});
  assert.equal(((await reader.toConnectData(topic, newBytes)) as Record<string, unknown>).origin_cluster, 'eu');
  assert.equal(((await reader.toConnectData(topic, oldBytes)) as Record<string, unknown>).event_id, '1:0:100:1');
});

test('an incompatible change is refused with the subject and the BACKWARD rule named', { skip }, async () => {
  const topic = uniqueName('it.incompatible');
  const c = converter({ 'schema.file': VALUE_SCHEMA_FILE });
  await c.fromConnectData(topic, event(1), record());
  const { readFileSync } = await import('node:fs');
  const base = JSON.parse(readFileSync(VALUE_SCHEMA_FILE, 'utf8')) as { fields: unknown[] };
  const broken = { ...base, fields: [...base.fields, { name: 'tenant', type: 'string', doc: 'required, no default' }] };
  await assert.rejects(c.fromConnectData(topic, { ...event(2), tenant: 't' }, record({ valueSchema: broken })), (err: unknown) => {
    assert.ok(err instanceof ConnectError && !err.retriable, String(err));
    assert.equal(err.code, 'SCHEMA_INCOMPATIBLE');
    assert.match(err.message, new RegExp(`subject "${topic}-value": it breaks the subject's BACKWARD compatibility rule`));
    return true;
  });
  assert.deepEqual(await registryJson(`/subjects/${topic}-value/versions`), [1]);
});

test('RecordNameStrategy and use.latest.version against the real registry', { skip }, async () => {
  const topic = uniqueName('it.strategy');
  const name = uniqueName('Rec').replace(/[^A-Za-z0-9_]/g, '_');
  const schema = { type: 'record', name, namespace: 'it.avro', fields: [{ name: 'n', type: 'long' }] };
  const byName = converter({ 'value.subject.name.strategy': 'io.confluent.kafka.serializers.subject.RecordNameStrategy' });
  const bytes = (await byName.fromConnectData(topic, { n: 5 }, record({ valueSchema: schema })))!;
  const latest = (await registryJson(`/subjects/it.avro.${name}/versions/latest`)) as { id: number };
  assert.equal(latest.id, bytes.readInt32BE(1));
  const useLatest = converter({ 'value.subject.name.strategy': 'RecordNameStrategy', 'auto.register.schemas': 'false', 'use.latest.version': 'true' });
  const again = (await useLatest.fromConnectData(topic, { n: 5 }, record({ valueSchema: schema })))!;
  assert.deepEqual(again, bytes);
  const unregistered = converter({ 'auto.register.schemas': 'false' });
  await assert.rejects(unregistered.fromConnectData(topic, { n: 1 }, record({ valueSchema: schema })), (err: unknown) =>
    err instanceof ConnectError && err.code === 'SCHEMA_NOT_REGISTERED' && err.message.includes(`"${topic}-value"`));
});

test('an unreachable registry is a RetriableError', async () => {
  const c = new AvroConverter();
  c.configure({ 'schema.registry.url': 'http://127.0.0.1:9/apis/ccompat/v7', 'schema.file': VALUE_SCHEMA_FILE, 'schema.registry.request.timeout.ms': '5000' }, false);
  await assert.rejects(c.fromConnectData('t', event(1), record()), (err: unknown) =>
    err instanceof RetriableError && err.code === 'SCHEMA_REGISTRY_UNAVAILABLE' && /127.0.0.1:9/.test(err.message));
});

const python = spawnSync('python3', ['-c', 'import confluent_kafka.schema_registry.avro'], { encoding: 'utf8' });
const pythonSkip = skip || (python.status === 0 ? false : 'python3 confluent-kafka Avro support missing: run `bash scripts/registry.sh deps`');

test('Confluent\'s Python AvroDeserializer decodes our bytes to the same values', { skip: pythonSkip }, async () => {
  const topic = uniqueName('it.python');
  const writer = converter({ 'schema.file': VALUE_SCHEMA_FILE });
  const events = [event(1), event(2), { ...event(3), event_type: 'snapshot', binlog: null, snapshot: { part: 1, parts: 4, dump_uuid: 'd-1' } }];
  const messages: string[] = [];
  for (const e of events) messages.push((await writer.fromConnectData(topic, e, record()))!.toString('hex'));
  const result = spawnSync('python3', [fileURLToPath(new URL('./confluent_decode.py', import.meta.url))], {
    input: JSON.stringify({ url, topic, field: 'value', messages }), encoding: 'utf8', timeout: 60_000,
  });
  assert.equal(result.status, 0, result.stderr);
  const decoded = JSON.parse(result.stdout) as Record<string, unknown>[];
  const hexBytes = (b64: string) => ({ $bytes: Buffer.from(b64, 'base64').toString('hex') });
  const expected = events.map((e) => ({
    snapshot: null, ...e,
    key_b64: hexBytes(e.key_b64 as string),
    args_b64: (e.args_b64 as string[]).map(hexBytes),
  }));
  assert.deepEqual(decoded, expected);
});

test('@kafkajs/confluent-schema-registry decodes our bytes to the same values', { skip }, async () => {
  const { SchemaRegistry } = await import('@kafkajs/confluent-schema-registry');
  const topic = uniqueName('it.kafkajs-sr');
  const writer = converter({ 'schema.file': VALUE_SCHEMA_FILE });
  const bytes = (await writer.fromConnectData(topic, event(7), record()))!;
  const decoded = (await new SchemaRegistry({ host: url }).decode(bytes)) as Record<string, unknown>;
  const ours = (await converter({}).toConnectData(topic, bytes)) as Record<string, unknown>;
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown; // avsc's record classes → plain objects
  assert.deepEqual(plain(decoded), plain(ours));
});
