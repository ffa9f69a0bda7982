import { test } from 'node:test';
import assert from 'node:assert/strict';
import avsc from 'avsc';
import { fromAvroValue, toAvroValue } from '../../../../../runtime/converters/avro/value-mapping.ts';
import { ConnectError } from '../../../../../runtime/api/errors.ts';

const type = (schema: unknown) => avsc.Type.forSchema(schema as avsc.Schema, { wrapUnions: 'auto' });

const sample = type({
  type: 'record', name: 'Sample', namespace: 't',
  fields: [
    { name: 'n', type: 'int' },
    { name: 'raw', type: 'bytes' },
    { name: 'maybe', type: ['null', 'bytes'], default: null },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['a', 'b'] } },
    { name: 'tags', type: { type: 'array', items: 'string' }, default: [] },
  ],
});

function mappingError(pattern: RegExp) {
  return (err: unknown) => err instanceof ConnectError && err.code === 'AVRO_MAPPING' && pattern.test(err.message);
}

test('base64 text and Buffers both fit bytes fields; the Avro bytes are exact', () => {
  const fromText = sample.toBuffer(toAvroValue(sample, { n: 1, raw: 'AQI=', maybe: '/w==', at: 1000, kind: 'b', tags: ['x'] }));
  const fromBuffers = sample.toBuffer(toAvroValue(sample, { n: 1, raw: Buffer.from([1, 2]), maybe: new Uint8Array([255]), at: 1000, kind: 'b', tags: ['x'] }));
  // int 1 → 02; bytes len 2 → 04 01 02; union branch 1 → 02, len 1 → 02 ff; long 1000 → d0 0f; enum index 1 → 02;
  // array block of 1 → 02, string "x" → 02 78, end 00.
  assert.equal(fromText.toString('hex'), '0204010202' + '02ff' + 'd00f' + '02' + '02027800');
  assert.deepEqual(fromBuffers, fromText);
});

test('missing fields take the schema default; a missing required field is named', () => {
  const mapped = toAvroValue(sample, { n: 0, raw: '', at: 0, kind: 'a' }) as Record<string, unknown>;
  assert.equal(mapped.maybe, null);
  assert.deepEqual(mapped.tags, []);
  assert.throws(() => toAvroValue(sample, { raw: '', at: 0, kind: 'a' }), mappingError(/Sample at n: required field is missing/));
});

test('a field the schema lacks is an error unless ignoreUnknownFields', () => {
  const value = { n: 0, raw: '', at: 0, kind: 'a', extra: 'x' };
  assert.throws(() => toAvroValue(sample, value), mappingError(/field "extra" is not in schema t.Sample/));
  const mapped = toAvroValue(sample, value, { ignoreUnknownFields: true }) as Record<string, unknown>;
  assert.equal('extra' in mapped, false);
});

test('type mismatches name the field path, expected type and the value', () => {
  assert.throws(() => toAvroValue(sample, { n: 2 ** 31, raw: '', at: 0, kind: 'a' }), mappingError(/at n: expected an int in \[-2147483648, 2147483647\], got the number 2147483648/));
  assert.throws(() => toAvroValue(sample, { n: 1, raw: 'not base64!', at: 0, kind: 'a' }), mappingError(/at raw: .*not base64/));
  assert.throws(() => toAvroValue(sample, { n: 1, raw: '', at: 0, kind: 'c' }), mappingError(/at kind: expected one of the t.Kind symbols a\|b, got the string "c"/));
  assert.throws(() => toAvroValue(sample, { n: 1, raw: '', at: 0, kind: 'a', tags: ['ok', 5] }), mappingError(/at tags\[1\]: expected a string, got the number 5/));
  assert.throws(() => toAvroValue(sample, { n: 1, raw: '', at: 1.5, kind: 'a' }), mappingError(/at at: expected a long in/));
});

test('longs accept safe numbers, bigints and Dates; beyond 2^53 is refused', () => {
  const long = type('long');
  assert.equal(toAvroValue(long, 5n), 5);
  assert.equal(toAvroValue(long, new Date(1234)), 1234);
  assert.throws(() => toAvroValue(long, 2n ** 60n), mappingError(/expected a long in/));
});

test('unions: null picks the null branch, strings prefer string over bytes, wrapped unions are wrapped', () => {
  const unwrapped = type(['null', 'string']);
  assert.equal(toAvroValue(unwrapped, undefined), null);
  assert.equal(toAvroValue(unwrapped, 'x'), 'x');
  assert.throws(() => toAvroValue(type('string'), null), mappingError(/expected a string, got null/));
  const textOrBytes = type(['null', 'string', 'bytes']);
  assert.equal(toAvroValue(textOrBytes, 'AQI='), 'AQI=');
  assert.deepEqual(toAvroValue(textOrBytes, Buffer.from([1])), Buffer.from([1]));
  const wrapped = type(['null', 'int', 'double']);
  assert.equal(wrapped.typeName, 'union:wrapped');
  assert.deepEqual(toAvroValue(wrapped, 5), { int: 5 });
  assert.deepEqual(toAvroValue(wrapped, 1.5), { double: 1.5 });
  assert.throws(() => toAvroValue(type(['null', 'int']), 'x'), mappingError(/expected an int \(integer number\), got the string "x"/));
});

test('maps, fixed and nested records', () => {
  const t = type({
    type: 'record', name: 'Outer', fields: [
      { name: 'm', type: { type: 'map', values: 'long' } },
      { name: 'f', type: { type: 'fixed', name: 'Two', size: 2 } },
      { name: 'inner', type: ['null', { type: 'record', name: 'Inner', fields: [{ name: 'x', type: 'double' }] }], default: null },
    ],
  });
  const value = { m: new Map([['a', 1]]), f: 'AQI=', inner: { x: 1.5 } };
  const decoded = fromAvroValue(t, t.fromBuffer(t.toBuffer(toAvroValue(t, value))));
  assert.deepEqual(decoded, { m: { a: 1 }, f: Buffer.from([1, 2]), inner: { x: 1.5 } });
  assert.throws(() => toAvroValue(t, { ...value, f: 'AQID' }), mappingError(/at f: expected fixed Two of 2 bytes, got 3 bytes/));
  assert.throws(() => toAvroValue(t, { ...value, inner: { x: 'no' } }), mappingError(/at inner/));
});

test('decoding returns plain objects and unwraps wrapped unions', () => {
  const t = type({ type: 'record', name: 'R', fields: [{ name: 'u', type: ['null', 'int', 'double'] }] });
  const decoded = fromAvroValue(t, t.fromBuffer(t.toBuffer(toAvroValue(t, { u: 2.5 })))) as Record<string, unknown>;
  assert.deepEqual(decoded, { u: 2.5 });
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
});

test('recursive schemas map', () => {
  const t = type({ type: 'record', name: 'Node', fields: [{ name: 'v', type: 'int' }, { name: 'next', type: ['null', 'Node'], default: null }] });
  const value = { v: 1, next: { v: 2, next: null } };
  assert.deepEqual(fromAvroValue(t, t.fromBuffer(t.toBuffer(toAvroValue(t, value)))), value);
});
