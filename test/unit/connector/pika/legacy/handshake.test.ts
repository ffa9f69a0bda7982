import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FORCE_FULL_SYNC_FILENUM, LegacyHandshakeError, checkHeartbeatReply, checkReceiverAuth, encodePing, encodeSpci,
  encodeTrysyncRequest, legacyPorts, legacyRsyncModule, trysyncOutcome,
} from '../../../../../connector/pika/legacy/handshake.ts';
import { LegacyFrameDecoder } from '../../../../../connector/pika/legacy/frame-decoder.ts';
import { LegacyReplyReader } from '../../../../../connector/pika/legacy/replies.ts';
import { legacyFile } from './vectors.ts';

const REPL = 'fullsync/decoded/repl/';
// The real replica reported 192.0.2.2:9731 to the master at 9721.
const replica = { replicaIp: '192.0.2.2', replicaPort: 9731 };

const readAll = (bytes: Buffer) => new LegacyReplyReader().push(bytes);

test('fullsync capture: forced TRYSYNC is byte-identical to the real replica\'s and its bulk "wait" means full sync', () => {
  const request = encodeTrysyncRequest({ ...replica, start: 'force' });
  assert.deepEqual(request, legacyFile(`${REPL}11_master_resp_9721_53536_c2s.bin`));
  assert.ok(request.toString().includes(String(FORCE_FULL_SYNC_FILENUM)));
  assert.deepEqual(trysyncOutcome(readAll(legacyFile(`${REPL}11_master_resp_9721_53536_s2c.bin`)), false), { kind: 'wait' });
});

test('fullsync capture: TRYSYNC at the dump\'s offset 0:622503 is byte-identical and gets slave id 2', () => {
  const request = encodeTrysyncRequest({ ...replica, start: { filenum: 0, offset: 622503 } });
  assert.deepEqual(request, legacyFile(`${REPL}36_master_resp_9721_53550_c2s.bin`));
  assert.deepEqual(trysyncOutcome(readAll(legacyFile(`${REPL}36_master_resp_9721_53550_s2c.bin`)), false), { kind: 'accepted', sid: 2 });
});

test('plain capture: a fresh replica\'s TRYSYNC 0:0 is byte-identical and accepted at once with slave id 1', () => {
  const dir = 'plain_slaveof/decoded/repl/';
  assert.deepEqual(encodeTrysyncRequest({ ...replica, start: { filenum: 0, offset: 0 } }), legacyFile(`${dir}11_master_resp_9721_60688_c2s.bin`));
  assert.deepEqual(trysyncOutcome(readAll(legacyFile(`${dir}11_master_resp_9721_60688_s2c.bin`)), false), { kind: 'accepted', sid: 1 });
});

test('fullsync capture: heartbeat requests equal the real replica\'s (spci 2, then ping) and the replies check out', () => {
  const sent = legacyFile(`${REPL}38_heartbeat_11721_53820_c2s.bin`);
  const spci = encodeSpci(2);
  assert.deepEqual(sent.subarray(0, spci.length), spci);
  const ping = encodePing();
  const rest = sent.subarray(spci.length);
  assert.equal(rest.length % ping.length, 0);
  for (let at = 0; at < rest.length; at += ping.length) assert.deepEqual(rest.subarray(at, at + ping.length), ping);
  const replies = readAll(legacyFile(`${REPL}38_heartbeat_11721_53820_s2c.bin`));
  assert.equal(replies.length, 1 + rest.length / ping.length);
  replies.forEach((reply, i) => checkHeartbeatReply(reply, i === 0 ? 'spci' : 'ping'));
  assert.throws(() => checkHeartbeatReply(replies[1]!, 'spci'), /answered spci with simple "PONG", expected \+OK/);
});

test('fullsync capture: the binlog sender\'s auth frame matches the slave id from TRYSYNC, and another id is refused', () => {
  const [first] = new LegacyFrameDecoder().push(legacyFile(`${REPL}42_binlog_to_replica_10731_39574_c2s.bin`).subarray(0, 27));
  assert.doesNotThrow(() => checkReceiverAuth(first!, 2));
  assert.throws(() => checkReceiverAuth(first!, 1), /authenticated as slave id 2, but TRYSYNC gave us 1/);
});

test('ports and rsync module of the capture: receiver 10731, rsync daemon 12731, heartbeat 11721, document_192.0.2.2:9721', () => {
  assert.deepEqual(legacyPorts(9731, 9721), { binlogReceiver: 10731, rsyncDaemon: 12731, heartbeat: 11721 });
  assert.equal(legacyRsyncModule('192.0.2.2', 9721), 'document_192.0.2.2:9721');
});

test('AUTH goes in the same write before TRYSYNC, and its reply is checked first', () => {
  const request = encodeTrysyncRequest({ ...replica, masterAuth: 's3cret', start: { filenum: 1, offset: 972 } });
  assert.equal(request.toString(), '*2\r\n$4\r\nauth\r\n$6\r\ns3cret\r\n*5\r\n$7\r\ntrysync\r\n$9\r\n192.0.2.2\r\n$4\r\n9731\r\n$1\r\n1\r\n$3\r\n972\r\n');
  assert.equal(trysyncOutcome(readAll(Buffer.from('+OK\r\n')), true), null, 'still waiting for the TRYSYNC reply');
  assert.deepEqual(trysyncOutcome(readAll(Buffer.from('+OK\r\n:5\r\n')), true), { kind: 'accepted', sid: 5 });
  assert.throws(() => trysyncOutcome(readAll(Buffer.from('-ERR invalid password\r\n:5\r\n')), true),
    (err: unknown) => err instanceof LegacyHandshakeError && err.code === 'PIKA_LEGACY_AUTH');
});

test('3.0 refusals and a PB-era master give specific errors', () => {
  const cases: Array<[string, string]> = [
    ['-ERR InvalidOffset\r\n', 'PIKA_LEGACY_INVALID_OFFSET'],
    ['-ERR AlreadyExist\r\n', 'PIKA_LEGACY_ALREADY_EXIST'],
    ["-ERR unknown or unsupported command 'trysync'\r\n", 'PIKA_LEGACY_NOT_SUPPORTED'],
    ['+OK\r\n', 'PIKA_LEGACY_UNEXPECTED'],
  ];
  for (const [bytes, code] of cases) {
    assert.throws(() => trysyncOutcome(readAll(Buffer.from(bytes)), false),
      (err: unknown) => err instanceof LegacyHandshakeError && err.code === code, bytes);
  }
});

test('the reply reader handles replies split at any byte and rejects garbage', () => {
  const bytes = Buffer.from('$4\r\nwait\r\n:2\r\n+PONG\r\n');
  for (let split = 0; split <= bytes.length; split++) {
    const reader = new LegacyReplyReader();
    const got = [...reader.push(bytes.subarray(0, split)), ...reader.push(bytes.subarray(split))];
    assert.deepEqual(got, [{ kind: 'bulk', text: 'wait' }, { kind: 'integer', value: 2 }, { kind: 'simple', text: 'PONG' }]);
    assert.ok(reader.idle);
  }
  assert.throws(() => new LegacyReplyReader().push(Buffer.from('*1\r\n')), /unexpected first byte 0x2a/);
  assert.throws(() => new LegacyReplyReader().push(Buffer.from(':x\r\n')), /integer reply "x" is not a number/);
});
