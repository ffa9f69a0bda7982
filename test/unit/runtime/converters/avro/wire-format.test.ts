import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFramed, encodeFramed } from '../../../../../runtime/converters/avro/wire-format.ts';
import { ConnectError } from '../../../../../runtime/api/errors.ts';

test('frames as magic 0x00 + big-endian int32 schema id + payload', () => {
  const framed = encodeFramed(0x01020304, Buffer.from([0xaa, 0xbb]));
  assert.equal(framed.toString('hex'), '0001020304aabb');
  assert.equal(encodeFramed(7, Buffer.alloc(0)).toString('hex'), '0000000007');
});

test('unframes id and payload', () => {
  const { schemaId, payload } = decodeFramed(Buffer.from('00000001c8deadbeef', 'hex'), 't');
  assert.equal(schemaId, 456);
  assert.equal(payload.toString('hex'), 'deadbeef');
});

test('refuses ids outside int32', () => {
  assert.throws(() => encodeFramed(-1, Buffer.alloc(0)), RangeError);
  assert.throws(() => encodeFramed(2 ** 31, Buffer.alloc(0)), RangeError);
});

test('names the problem for bytes that are not in the wire format', () => {
  assert.throws(() => decodeFramed(Buffer.from('0000', 'hex'), 'orders'), (err: unknown) =>
    err instanceof ConnectError && err.code === 'AVRO_WIRE_FORMAT' && /topic orders: 2 byte\(s\) are too short/.test(err.message));
  assert.throws(() => decodeFramed(Buffer.from('7b22613a31', 'hex'), 'orders'), (err: unknown) =>
    err instanceof ConnectError && /unknown magic byte 0x7b/.test(err.message));
});
