import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PIKA_BINLOG_MAGIC, V2StreamDecoder, stripAffiliatedInfo } from '../../../../../connector/pika/legacy/v2-stream.ts';
import { encodeRespCommand } from '../../../../../connector/pika/protocol/resp.ts';
import { PikaProtocolError } from '../../../../../connector/pika/protocol/errors.ts';

function binlogInfo(execTime: number, filenum: number, offset: number): Buffer {
  const info = Buffer.alloc(16);
  info.writeUInt32LE(execTime, 0);
  info.writeUInt32LE(filenum, 4);
  info.writeBigUInt64LE(BigInt(offset), 8);
  return info;
}

// The reference's example (pika-protocol.md §6.5; pika-port's notes): `set A 1` as a 2.x master sends it,
// `*7 set A 1 __PIKA_X#$SKGI 1 <16-byte binlog_info> 1`.
const setA = encodeRespCommand(['set', 'A', '1', PIKA_BINLOG_MAGIC, '1', binlogInfo(1500000000, 3, 4096), '1']);
const auth = encodeRespCommand(['auth', '4']);

test('2.x: "set A 1" with the four affiliated arguments becomes "set A 1" with server id, time and position', () => {
  assert.ok(setA.toString('latin1').startsWith('*7\r\n$3\r\nset\r\n$1\r\nA\r\n$1\r\n1\r\n$14\r\n__PIKA_X#$SKGI\r\n$1\r\n1\r\n$16\r\n'));
  const messages = new V2StreamDecoder().push(Buffer.concat([auth, setA]));
  assert.deepEqual(messages[0], { kind: 'auth', sid: 4 });
  const second = messages[1]!;
  assert.equal(second.kind, 'command');
  if (second.kind !== 'command') return;
  const { command } = second;
  assert.deepEqual(command.argv.map(String), ['set', 'A', '1']);
  assert.equal(command.serverId, 1);
  assert.equal(command.execTime, 1500000000);
  assert.deepEqual(command.start, { filenum: 3, offset: 4096 });
  assert.equal(command.sendToHub, true);
  assert.deepEqual(command.raw, setA);
});

test('2.x: commands split at every byte boundary decode the same', () => {
  const big = encodeRespCommand(['rpush', 'list', 'x'.repeat(300), PIKA_BINLOG_MAGIC, '12', binlogInfo(7, 0, 2 ** 40), '0']);
  const stream = Buffer.concat([auth, setA, big]);
  for (let split = 1; split < stream.length; split++) {
    const decoder = new V2StreamDecoder();
    const got = [...decoder.push(stream.subarray(0, split)), ...decoder.push(stream.subarray(split))];
    decoder.end();
    assert.equal(got.length, 3, `split at ${split}`);
    const last = got[2]!;
    assert.ok(last.kind === 'command' && last.command.start.offset === 2 ** 40 && last.command.argv.length === 3);
  }
});

test('2.x: missing or malformed affiliated info and broken streams are errors that say what is wrong', () => {
  const cases: Array<[Buffer, RegExp]> = [
    [encodeRespCommand(['set', 'A', '1']), /does not end with the __PIKA_X#\$SKGI affiliated arguments/],
    [encodeRespCommand(['set', 'A', '1', PIKA_BINLOG_MAGIC, 'x', binlogInfo(1, 0, 0), '0']), /server_id "x" is not a number/],
    [encodeRespCommand(['set', 'A', '1', PIKA_BINLOG_MAGIC, '1', Buffer.alloc(8), '0']), /binlog_info has 8 bytes, expected 16/],
    [encodeRespCommand(['set', 'A', '1', PIKA_BINLOG_MAGIC, '1', binlogInfo(1, 0, 0), '2']), /send_to_hub is "2"/],
    [Buffer.from('PING\r\n'), /expected '\*' \(a RESP array\) at stream byte 21/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(() => new V2StreamDecoder().push(Buffer.concat([auth, bytes])),
      (err: unknown) => err instanceof PikaProtocolError && message.test(err.message), String(message));
  }
  assert.throws(() => new V2StreamDecoder().push(setA), /auth frame must be "auth <sid>"/);
  const cut = new V2StreamDecoder();
  cut.push(Buffer.concat([auth, setA.subarray(0, 10)]));
  assert.throws(() => cut.end(), /ended inside a command \(10 bytes/);
  const args = ['del', 'k', PIKA_BINLOG_MAGIC, '0'].map((a) => Buffer.from(a));
  assert.deepEqual(stripAffiliatedInfo([...args, binlogInfo(0, 1, 2), Buffer.from('0')]).start, { filenum: 1, offset: 2 });
});
