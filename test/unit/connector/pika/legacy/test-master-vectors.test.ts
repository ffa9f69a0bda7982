// The test master's legacy-3.0 profile answers like the real Pika 3.0.16 master of pika-vectors-3.0.16-legacy:
// the same TRYSYNC replies (`:<sid>`, bulk `wait`, sids counted across attempts), the same heartbeat replies to the
// captured spci/ping bytes, and — fed the captured items with their exec times and the capture's 1 MiB
// binlog-file-size — byte for byte the same binlog sender stream (auth frame, 34-byte items with server_id 1 and
// logic ids from 0, physical offsets with block padding, the roll item naming the previous file's end).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { LegacyFrameDecoder, type LegacyBinlogFrame } from '../../../../../connector/pika/legacy/frame-decoder.ts';
import { encodeRespCommand } from '../../../../../connector/pika/protocol/resp.ts';
import { startPikaMaster, type PikaMaster } from '../../../../pika-master/index.ts';
import { waitFor } from '../replication/session-helpers.ts';
import { legacyFile } from './vectors.ts';
import { freeReplicaPort } from './legacy-helpers.ts';

const PLAIN = 'plain_slaveof/decoded/repl/';
const FULL = 'fullsync/decoded/repl/';
const capturedStream = legacyFile(`${PLAIN}21_binlog_to_replica_10731_48824_c2s.bin`);

async function masterWithCapturedItems(onLegacyWait?: (slave: { module: string }) => void): Promise<PikaMaster> {
  const frames = new LegacyFrameDecoder().push(capturedStream).filter((f): f is LegacyBinlogFrame => f.kind === 'binlog');
  let clockMs = 0;
  const m = await startPikaMaster({ profile: 'legacy-3.0', binlogFileSize: 1024 * 1024, nowMs: () => clockMs, timeScale: 20, onLegacyWait });
  for (const f of frames) {
    clockMs = f.item.execTime * 1000;
    m.core.appendBinlog(0, f.item.argv);
  }
  return m;
}

/** Sends `bytes` on a new connection and resolves with the first `length` bytes answered. */
function exchange(port: number, bytes: Buffer, length: number, keep?: (s: Socket) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(bytes));
    let got = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= length) {
        if (keep) keep(socket);
        else socket.destroy();
        resolve(got);
      }
    });
  });
}

test('plain sync: TRYSYNC reply, heartbeat replies and the whole binlog sender stream equal the real 3.0.16 master\'s bytes', async () => {
  const m = await masterWithCapturedItems();
  const replicaPort = await freeReplicaPort();
  let received = Buffer.alloc(0);
  const receiver = createServer((s) => s.on('data', (c) => { received = Buffer.concat([received, c]); }));
  await new Promise<void>((r) => receiver.listen(replicaPort + 1000, '127.0.0.1', () => r()));
  let heartbeat: Socket | undefined;
  try {
    const request = encodeRespCommand(['trysync', '127.0.0.1', String(replicaPort), '0', '0']);
    assert.deepEqual(await exchange(m.ports.resp, request, 4), legacyFile(`${PLAIN}11_master_resp_9721_60688_s2c.bin`));
    const hbExpected = legacyFile(`${PLAIN}16_heartbeat_11721_56872_s2c.bin`);
    const hbReply = await exchange(m.ports.repl, legacyFile(`${PLAIN}16_heartbeat_11721_56872_c2s.bin`), hbExpected.length, (s) => { heartbeat = s; });
    assert.deepEqual(hbReply.toString('latin1'), hbExpected.toString('latin1'), 'spci → +OK, each ping → +PONG');
    await waitFor(() => received.length >= capturedStream.length, 'the whole stream');
    assert.equal(received.length, capturedStream.length);
    const firstDiff = received.findIndex((b, i) => b !== capturedStream[i]);
    assert.equal(firstDiff, -1, `stream differs from the capture at byte ${firstDiff}`);
  } finally {
    heartbeat?.destroy();
    receiver.close();
    await m.stop();
  }
});

test('forced full sync: `wait` as a bulk reply, then TRYSYNC at the dump offset gets the next sid (as the real master)', async () => {
  const pushes: string[] = [];
  const m = await masterWithCapturedItems((s) => pushes.push(s.module));
  try {
    const force = encodeRespCommand(['trysync', '127.0.0.1', '9731', '4294967295', '0']);
    assert.deepEqual(await exchange(m.ports.resp, force, 10), legacyFile(`${FULL}11_master_resp_9721_53536_s2c.bin`));
    assert.deepEqual(pushes, [`document_127.0.0.1:${m.ports.resp}`], 'the push goes to module document_<master ip>:<master port>');
    const resume = legacyFile(`${FULL}36_master_resp_9721_53550_c2s.bin`).toString('latin1').replace('192.0.2.2', '127.0.0.1');
    assert.deepEqual(await exchange(m.ports.resp, Buffer.from(resume, 'latin1'), 4), legacyFile(`${FULL}36_master_resp_9721_53550_s2c.bin`));
  } finally {
    await m.stop();
  }
});
