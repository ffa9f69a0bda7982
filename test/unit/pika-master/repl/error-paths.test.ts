// Replays the request frames recorded against a real Pika 4.0.1 master (/work/shared/pika-vectors-errors)
// and checks the test master answers the same way: same reply frames (codes, strings, offsets,
// sessions, pushed items), same silent ignores, same connection closes. Keepalive frames are timing
// noise there and here, so they are left out of the comparison (the keepalive test covers them).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { startPikaMaster, type PikaMaster } from '../../../pika-master/index.ts';
import { decodeInnerResponse } from '../../../pika-master/repl/pb-messages.ts';
import { RawPbClient } from './pb-client.ts';

const errorsDir = fileURLToPath(new URL('../../../../../shared/pika-vectors-errors/', import.meta.url));

interface VectorEvent { conn?: string; dir?: string; file?: string; event?: string; msg?: { type?: string } }
interface VectorCase { n: number; name: string; dir: string; events: VectorEvent[] }

const index = JSON.parse(readFileSync(join(errorsDir, 'index.json'), 'utf8')) as { cases: VectorCase[] };

function isKeepalive(body: Buffer): boolean {
  const msg = decodeInnerResponse(body) as { binlog_sync?: { binlog: Buffer }[] };
  return (msg.binlog_sync?.length ?? 0) > 0 && msg.binlog_sync!.every((b) => b.binlog.length === 0);
}

/** Decoded response with what differs per run/host masked: ids, exec times, our own port. */
function normalize(body: Buffer, opts: { maskMasterOffset?: boolean } = {}): unknown {
  const msg = decodeInnerResponse(body) as Record<string, any>;
  if (msg.meta_sync) {
    assert.match(msg.meta_sync.run_id, /^[0-9a-f]{40}$/);
    assert.match(msg.meta_sync.replication_id, /^[0-9a-f]{50}$/);
    msg.meta_sync.run_id = '<run_id>';
    msg.meta_sync.replication_id = '<replication_id>';
  }
  if (opts.maskMasterOffset && msg.try_sync?.binlog_offset) msg.try_sync.binlog_offset = '<master offset>';
  for (const node of msg.remove_slave_node ?? []) node.node.port = '<master port>';
  for (const item of msg.binlog_sync ?? []) {
    if (item.binlog.length >= 34) {
      const b = Buffer.from(item.binlog);
      b.writeUInt32LE(0, 2); // exec_time
      item.binlog = b.toString('hex');
    }
  }
  return msg;
}

async function fillLikeTheRecordedMaster(m: PikaMaster): Promise<void> {
  // index.json: 200 SETs in db0 (files write2file30..39 left, producer 39:1025) and 20 in db1.
  for (let i = 0; i < 200; i++) {
    const n = String(i).padStart(4, '0');
    m.exec(0, ['SET', `a:key:${n}`, `v${n}`.repeat(25)]);
  }
  for (let i = 0; i < 20; i++) {
    const n = String(i).padStart(4, '0');
    m.exec(1, ['SET', `b:key:${n}`, `v${n}`.repeat(25)]);
  }
}

async function replayCase(m: PikaMaster, vc: VectorCase, conns: Map<string, RawPbClient>, opts: { maskMasterOffset?: boolean } = {}) {
  const events = vc.events;
  for (let i = 0; i < events.length; i++) {
    const ev = events[i]!;
    if (ev.dir !== 'c2s' || !ev.conn) continue;
    const conn = ev.conn;
    if (ev.msg?.type?.startsWith('kRsync')) continue; // rsync2 (port+10001) is not part of this test
    let client = conns.get(conn);
    if (!client || client.closed) {
      client = await RawPbClient.connect(m.ports.repl);
      conns.set(conn, client);
    }
    // Expected: replies on this connection up to the next request of the same connection; a close.
    const expected: Buffer[] = [];
    let expectClose = false;
    for (let j = i + 1; j < events.length; j++) {
      const next = events[j]!;
      if (next.conn !== conn) continue;
      if (next.dir === 'c2s') break;
      if (next.dir === 's2c' && next.file) {
        const body = readFileSync(join(errorsDir, vc.dir, next.file)).subarray(4);
        if (!isKeepalive(body)) expected.push(body);
      }
      if (next.event === 'server_closed') expectClose = true;
    }
    const before = client.frames.length;
    client.sendRaw(readFileSync(join(errorsDir, vc.dir, ev.file!)));
    const got = () => client!.frames.slice(before).filter((f) => !isKeepalive(f));
    if (expectClose) {
      assert.ok(await client.waitFor(() => client!.closed, 3000), `case ${vc.n} ${vc.name}: master must close the connection`);
    } else {
      await client.waitFor(() => got().length >= expected.length, 3000);
      await new Promise((r) => setTimeout(r, 100)); // nothing extra may follow
      assert.equal(client.closed, false, `case ${vc.n} ${vc.name}: connection must stay open`);
    }
    assert.deepEqual(got().map((f) => normalize(f, opts)), expected.map((f) => normalize(f, opts)), `case ${vc.n} ${vc.name}: replies`);
  }
}

describe('replication error paths replayed from a real 4.0.1 master', () => {
  let m: PikaMaster;
  const conns = new Map<string, RawPbClient>();
  before(async () => {
    m = await startPikaMaster({ dbs: 2, binlogFileSize: 1024, expireLogsNums: 10, selfIp: '192.0.2.2' });
    await fillLikeTheRecordedMaster(m);
  });
  after(async () => {
    for (const c of conns.values()) c.close();
    await m.stop();
    rmSync(m.dir, { recursive: true, force: true });
  });

  it('starts from the recorded master state (producer 39:1025, files 30..39 kept)', () => {
    const p = m.binlogPosition(0);
    assert.deepEqual([p.filenum, p.offset], [39, 1025]);
    assert.deepEqual(m.core.binlogs[0]!.fileNumbers(), [30, 31, 32, 33, 34, 35, 36, 37, 38, 39]);
    assert.deepEqual([m.binlogPosition(1).filenum, m.binlogPosition(1).offset], [3, 1025]);
  });

  for (const vc of index.cases.filter((c) => (c.n >= 1 && c.n <= 24))) {
    it(`case ${vc.n}: ${vc.name}`, async () => {
      if (vc.n >= 14 && vc.n <= 21) conns.get('X')?.close(), conns.delete('X');
      await replayCase(m, vc, conns);
    });
  }

  it('cases 39/40: DBSync or RemoveSlaveNode for an unknown DB crash a real master; the fixture closes the connection instead', async () => {
    for (const vc of index.cases.filter((c) => c.n === 39 || c.n === 40)) {
      const client = await RawPbClient.connect(m.ports.repl);
      const before = m.repl.crashesAvoided;
      client.sendRaw(readFileSync(join(errorsDir, vc.dir, '001_X_req.bin')));
      assert.ok(await client.waitFor(() => client.closed, 3000), `case ${vc.n}: connection closed`);
      assert.equal(m.repl.crashesAvoided, before + 1);
      assert.equal(client.frames.length, 0, 'no reply frame, like the real master');
    }
  });
});

describe('MetaSync auth replayed from a real 4.0.1 master (requirepass pw-A)', () => {
  let m: PikaMaster;
  before(async () => {
    m = await startPikaMaster({ dbs: 2, binlogFileSize: 1024, expireLogsNums: 10, requirepass: 'pw-A' });
    await fillLikeTheRecordedMaster(m);
  });
  after(async () => {
    await m.stop();
    rmSync(m.dir, { recursive: true, force: true });
  });
  for (const vc of index.cases.filter((c) => c.n >= 36 && c.n <= 38)) {
    it(`case ${vc.n}: ${vc.name}`, async () => {
      const conns = new Map<string, RawPbClient>();
      try {
        await replayCase(m, vc, conns, { maskMasterOffset: true });
      } finally {
        for (const c of conns.values()) c.close();
      }
    });
  }
});
