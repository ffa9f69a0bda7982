// The Avro schemas in schemas/ against the connector's event type (connector/pika/events/event.ts): a typed sample
// event must map onto the value schema field by field, so a field added to PikaEvent without the schema fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import avsc from 'avsc';
import type { PikaEvent } from '../../../connector/pika/events/event.ts';
import { fromAvroValue, toAvroValue } from '../../../runtime/converters/avro/value-mapping.ts';

const load = (name: string) => JSON.parse(readFileSync(new URL(`../../../schemas/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const valueSchema = load('pika-event-value.v1.avsc');
const keySchema = load('pika-event-key.v1.avsc');
const valueType = avsc.Type.forSchema(valueSchema as avsc.Schema);

const binlogEvent: PikaEvent = {
  event_type: 'binlog', op: 'pksetexat', data_type: 'string', db: 1, slot: null,
  key: 'user:1', key_b64: Buffer.from('user:1').toString('base64'),
  args_b64: ['user:1', '1763800000', 'v'].map((a) => Buffer.from(a).toString('base64')),
  raw_resp_b64: Buffer.from('*4\r\n$9\r\npksetexat\r\n').toString('base64'),
  ts_ms: 1763799999000, event_id: '3:12:4096:77', source_id: 'pika-a',
  binlog: { filenum: 12, offset: 4096, end_filenum: 12, end_offset: 4170, logic_id: 77, server_id: null, term_id: 3 },
  source: { host: '10.0.0.5', port: 9221, replication_id: 'a1b2' },
  expire_at_ms: 1763800000000, warnings: ['pika-psetex-milliseconds'],
};

const keylessSnapshotEvent: PikaEvent = {
  ...binlogEvent, event_type: 'snapshot', op: 'flushdb', data_type: 'generic', key: null, key_b64: null, args_b64: [],
  raw_resp_b64: null, binlog: null, source: { host: 'h', port: 1, replication_id: null }, expire_at_ms: null, warnings: [],
};

function b64ToBuffers(event: PikaEvent): Record<string, unknown> {
  return {
    ...event,
    key_b64: event.key_b64 === null ? null : Buffer.from(event.key_b64, 'base64'),
    args_b64: event.args_b64.map((a) => Buffer.from(a, 'base64')),
    raw_resp_b64: event.raw_resp_b64 === null ? null : Buffer.from(event.raw_resp_b64, 'base64'),
    snapshot: null,
  };
}

test('PikaEvent values (binlog and keyless snapshot) round-trip through pika-event-value.v1', () => {
  for (const event of [binlogEvent, keylessSnapshotEvent]) {
    const bytes = valueType.toBuffer(toAvroValue(valueType, event));
    assert.deepEqual(fromAvroValue(valueType, valueType.fromBuffer(bytes)), b64ToBuffers(event));
  }
});

test('the value schema has exactly the PikaEvent fields plus the optional snapshot part', () => {
  const schemaFields = (valueSchema.fields as { name: string }[]).map((f) => f.name).sort();
  assert.deepEqual(schemaFields, [...Object.keys(binlogEvent), 'snapshot'].sort());
  const snapshot = { ...keylessSnapshotEvent, snapshot: { part: 2, parts: 8, dump_uuid: null } };
  assert.deepEqual((fromAvroValue(valueType, valueType.fromBuffer(valueType.toBuffer(toAvroValue(valueType, snapshot)))) as { snapshot: unknown }).snapshot,
    { part: 2, parts: 8, dump_uuid: null });
});

test('every field and named type of both schemas is documented; nullable fields default to null', () => {
  const check = (schema: unknown, where: string): void => {
    if (Array.isArray(schema)) return schema.forEach((s, i) => check(s, `${where}[${i}]`));
    if (typeof schema !== 'object' || schema === null) return;
    const s = schema as { type?: unknown; name?: string; doc?: string; fields?: { name: string; doc?: string; type: unknown; default?: unknown }[]; items?: unknown };
    if ((s.type === 'record' || s.type === 'enum') && !s.doc) assert.fail(`${where}: named type ${s.name} has no doc`);
    for (const f of s.fields ?? []) {
      assert.ok(f.doc, `${where}.${f.name} has no doc`);
      if (Array.isArray(f.type) && f.type[0] === 'null') assert.ok('default' in f && f.default === null, `${where}.${f.name}: nullable without default null`);
      check(f.type, `${where}.${f.name}`);
    }
    check(s.items, `${where}.items`);
  };
  check(valueSchema, 'PikaEvent');
  check(keySchema, 'PikaEventKey');
});

test('the key schema maps the parts of the byte key', () => {
  const keyType = avsc.Type.forSchema(keySchema as avsc.Schema);
  const key = { db: 1, data_type: 'hash', key_b64: Buffer.from([0xff, 0x00]).toString('base64') };
  assert.deepEqual(fromAvroValue(keyType, keyType.fromBuffer(keyType.toBuffer(toAvroValue(keyType, key)))), { ...key, key_b64: Buffer.from([0xff, 0x00]) });
  assert.equal(keyType.name, 'io.pika.connect.PikaEventKey');
  assert.equal(valueType.name, 'io.pika.connect.PikaEvent');
});
