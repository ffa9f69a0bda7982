import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonConverter } from '../../../../runtime/converters/json.ts';
import { StringConverter, ByteArrayConverter } from '../../../../runtime/converters/string.ts';


test('plain JSON when schemas.enable=false', () => {
  const c = new JsonConverter();
  c.configure({ 'schemas.enable': 'false' });
  const bytes = c.fromConnectData('t', { a: 1, b: 'x', c: [true] })!;
  assert.deepEqual(JSON.parse(bytes.toString()), { a: 1, b: 'x', c: [true] });
});

test("Kafka Connect's {schema, payload} envelope by default, with a schema matching the value", () => {
  const c = new JsonConverter();
  c.configure({});
  const bytes = c.fromConnectData('t', { db: 0, key: 'k', score: 1.5, ok: true, nested: { n: 2 } })!;
  const parsed = JSON.parse(bytes.toString());
  assert.deepEqual(parsed.payload, { db: 0, key: 'k', score: 1.5, ok: true, nested: { n: 2 } });
  assert.equal(parsed.schema.type, 'struct');
  const types = Object.fromEntries(parsed.schema.fields.map((f: { field: string; type: string }) => [f.field, f.type]));
  assert.deepEqual(types, { db: 'int64', key: 'string', score: 'float64', ok: 'boolean', nested: 'struct' });
  assert.deepEqual(c.toConnectData('t', bytes), parsed.payload);
});

test('Buffers become base64 strings, as Kafka Connect writes BYTES', () => {
  const c = new JsonConverter();
  c.configure({ 'schemas.enable': 'false' });
  const bytes = c.fromConnectData('t', { raw: Buffer.from([0xff, 0x00, 0x41]) })!;
  assert.deepEqual(JSON.parse(bytes.toString()), { raw: '/wBB' });
});

test('Buffers deep inside arrays and objects become base64 too; Buffer-free values are written unchanged', () => {
  const c = new JsonConverter();
  c.configure({ 'schemas.enable': 'false' });
  const nested = { a: [{ b: [Buffer.from('hi')] }], s: 'x', n: null, d: new Date(0) };
  assert.deepEqual(JSON.parse(c.fromConnectData('t', nested)!.toString()), { a: [{ b: ['aGk='] }], s: 'x', n: null, d: '1970-01-01T00:00:00.000Z' });
  const plain = { event_type: 'binlog', key: 'k', args_b64: ['aw=='], binlog: { filenum: 0, offset: 12 }, list: [1, 'two', null, true] };
  assert.equal(c.fromConnectData('t', plain)!.toString(), JSON.stringify(plain));
});

test('a string that looks like a serialised Buffer stays a string; a Buffer next to it is still base64', () => {
  const c = new JsonConverter();
  c.configure({ 'schemas.enable': 'false' });
  const lookalike = { text: '{"type":"Buffer","data":[104,105]}', o: { data: [104, 105], type: 'Buffer' } };
  assert.deepEqual(JSON.parse(c.fromConnectData('t', lookalike)!.toString()), { text: lookalike.text, o: 'aGk=' });
  assert.equal(c.fromConnectData('t', { text: lookalike.text })!.toString(), JSON.stringify({ text: lookalike.text }));
});

test('null stays null (a tombstone), and a bad schemas.enable value is a clear error', () => {
  const c = new JsonConverter();
  c.configure({});
  assert.equal(c.fromConnectData("t", null), null);
  assert.throws(() => new JsonConverter().configure({ 'schemas.enable': 'yes' }), /schemas.enable must be true or false/);
});

test('StringConverter keeps binary keys byte-exact; ByteArrayConverter refuses non-bytes', () => {
  const s = new StringConverter();
  const binary = Buffer.from([0xc3, 0x28, 0x00]);
  assert.deepEqual(s.fromConnectData('t', binary), binary);
  assert.deepEqual(s.fromConnectData('t', '0:string:k'), Buffer.from('0:string:k'));
  assert.throws(() => new ByteArrayConverter().fromConnectData('t', 'text'), /needs bytes for topic t/);
});
