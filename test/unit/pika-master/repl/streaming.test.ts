// Live behaviour of the test master's replication port: items written through the RESP port are
// pushed in binlog order, the sync window caps what is in flight until acked, idle slaves get
// keepalives, silent slaves are dropped, and a restart can change the replication id.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { rmSync } from 'node:fs';
import { startPikaMaster, type PikaMaster } from '../../../pika-master/index.ts';
import { InnerRequestType, decodeInnerResponse } from '../../../pika-master/repl/pb-messages.ts';
import { RawPbClient } from './pb-client.ts';

type Msg = Record<string, any>;
const node = { ip: '10.0.0.5', port: 9500 };

function request(obj: Record<string, unknown>): Buffer {
  return Buffer.from(InnerRequestType.encode(InnerRequestType.fromObject(obj)).finish());
}

async function respCommand(port: number, ...argv: string[]): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  const wire = `*${argv.length}\r\n` + argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
  socket.write(wire);
  const data = await new Promise<string>((resolve) => socket.once('data', (d) => resolve(d.toString('latin1'))));
  socket.destroy();
  return data;
}

async function handshake(m: PikaMaster, db = 'db0'): Promise<{ client: RawPbClient; session: number; at: { filenum: number; offset: number } }> {
  const client = await RawPbClient.connect(m.ports.repl);
  client.sendBody(request({ type: 1, meta_sync: { node } }));
  await client.waitFor(() => client.frames.length >= 1, 3000);
  const p = m.binlogPosition(0);
  client.sendBody(request({ type: 2, try_sync: { node, slot: { db_name: db, slot_id: 0 }, binlog_offset: { filenum: p.filenum, offset: p.offset } } }));
  await client.waitFor(() => client.frames.length >= 2, 3000);
  const reply = decodeInnerResponse(client.frames[1]!) as Msg;
  assert.equal(reply.try_sync.reply_code, 'kOk');
  return { client, session: reply.try_sync.session_id, at: { filenum: p.filenum, offset: p.offset } };
}

function binlogSync(session: number, start: { filenum: number; offset: number }, end: { filenum: number; offset: number }, firstSend: boolean): Buffer {
  return request({
    type: 4,
    binlog_sync: { node, db_name: 'db0', slot_id: 0, ack_range_start: start, ack_range_end: end, session_id: session, first_send: firstSend },
  });
}

const items = (client: RawPbClient, from: number): Msg[] =>
  client.frames.slice(from).flatMap((f) => (decodeInnerResponse(f) as Msg).binlog_sync ?? []).filter((b: Msg) => b.binlog.length > 0);

describe('test master replication stream', () => {
  const masters: PikaMaster[] = [];
  after(async () => {
    for (const m of masters) { await m.stop(); rmSync(m.dir, { recursive: true, force: true }); }
  });

  it('pushes a backlog of RESP writes as binlog items, holding back beyond the sync window until acked', async () => {
    const m = await startPikaMaster({ dbs: 1, syncWindowSize: 3 });
    masters.push(m);
    const { client, session, at } = await handshake(m);
    for (let i = 0; i < 5; i++) assert.equal(await respCommand(m.ports.resp, 'SET', `k${i}`, `v${i}`), '+OK\r\n');
    client.sendBody(binlogSync(session, at, at, true)); // start before the 5 items: a backlog of 5
    assert.ok(await client.waitFor(() => items(client, 2).length >= 3, 3000));
    await new Promise((r) => setTimeout(r, 200));
    const first = items(client, 2);
    assert.equal(first.length, 3, 'window of 3 items in flight, no more');
    const keys = first.map((it) => Buffer.from(it.binlog).subarray(34).toString('latin1'));
    assert.deepEqual(keys.map((c) => c.split('\r\n')[4]), ['k0', 'k1', 'k2']);
    const seen = client.frames.length;
    client.sendBody(binlogSync(session, first[0].binlog_offset, first[2].binlog_offset, false));
    assert.ok(await client.waitFor(() => items(client, seen).length >= 2, 3000), 'acking frees the window');
    const end = items(client, seen)[1].binlog_offset;
    assert.deepEqual([end.filenum, Number(end.offset)], [m.binlogPosition(0).filenum, m.binlogPosition(0).offset]);
    client.close();
  });

  it('sends keepalives to an idle slave and drops a slave that stays silent', async () => {
    const m = await startPikaMaster({ dbs: 1, timeScale: 40 }); // keepalive 50 ms, drop after 500 ms
    masters.push(m);
    const { client, session, at } = await handshake(m);
    client.sendBody(binlogSync(session, at, at, true));
    assert.ok(await client.waitFor(() => client.frames.length >= 4, 5000), 'keepalives arrive');
    const keepalive = (decodeInnerResponse(client.frames[2]!) as Msg).binlog_sync[0];
    assert.equal(keepalive.binlog.length, 0);
    assert.equal(keepalive.session_id, session);
    assert.deepEqual([keepalive.binlog_offset.filenum, keepalive.binlog_offset.offset], [0, '0']);
    const dropped = async () => !(await respCommand(m.ports.resp, 'INFO', 'replication')).includes('(db0:0)');
    const deadline = Date.now() + 10000;
    while (!(await dropped()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(await dropped(), 'slave node removed after silence');
    const count = client.frames.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(client.frames.length <= count + 1, 'no keepalives once the node is gone');
    assert.equal(client.closed, false, 'the TCP connection itself stays open');
    client.close();
  });

  it('restart with a new replication id keeps data and binlog but changes MetaSync ids', async () => {
    const m = await startPikaMaster({ dbs: 1 });
    masters.push(m);
    m.exec(0, ['SET', 'a', '1']);
    const before = m.core.replicationId;
    const position = m.binlogPosition(0);
    await m.restart({ newReplicationId: true });
    assert.notEqual(m.core.replicationId, before);
    assert.deepEqual(m.binlogPosition(0), position);
    assert.equal(m.state(0).get('a')?.value.type, 'string');
    const { client } = await handshake(m);
    assert.equal((decodeInnerResponse(client.frames[0]!) as Msg).meta_sync.replication_id, m.core.replicationId);
    client.close();
  });
});
