// Full sync through the test master as a CDC replica sees it: DBSync on the replication port → the master dumps
// its state of that instant with real RocksDB → the connector's rsync2 client downloads it over port+10001 → the
// connector's TS reader finds exactly the master's keys → TrySync at the dump's `info` offset is accepted and the
// binlog continues with the writes made after the dump. Also TryDBSync's reuse rule and the 3.5 layout.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startPikaMaster, type PikaMaster } from '../../../pika-master/index.ts';
import type { Entry } from '../../../pika-master/data/keyspace.ts';
import { decodeInnerResponse, InnerRequestType } from '../../../pika-master/repl/pb-messages.ts';
import { downloadDump } from '../../../../connector/pika/rsync/rsync-client.ts';
import { tcpTransportFactory } from '../../../../connector/pika/rsync/transport.ts';
import { parseDumpInfo } from '../../../../connector/pika/dump/info-file.ts';
import { rocksDbMissing } from '../../../fixtures/rocksdb-gen/build.ts';
import { RawPbClient } from '../repl/pb-client.ts';
import { scoreText, type ExpectedDump } from './dump-scenario.ts';
import { collectDump, describeDiff } from './collect-dump.ts';

type Msg = Record<string, any>;
const node = { ip: '10.0.0.7', port: 9600 };
const request = (obj: Record<string, unknown>): Buffer => Buffer.from(InnerRequestType.encode(InnerRequestType.fromObject(obj)).finish());
const hex = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s, 'latin1') : s).toString('hex');

/** The master's entries in the reader's shape (3.5 dumps carry no streams). */
function expectedFrom(state: Map<string, Entry>, profile: '4.0' | '3.5'): ExpectedDump {
  const out: ExpectedDump = new Map();
  for (const [key, e] of state) {
    const v = e.value;
    const expireAtMs = e.expireAtMs === undefined ? null : profile === '3.5' ? Math.floor(e.expireAtMs / 1000) * 1000 : e.expireAtMs;
    switch (v.type) {
      case 'string': out.set(hex(key), { type: 'string', value: hex(v.value), expireAtMs, hyperloglog: false }); break;
      case 'hash': out.set(hex(key), { type: 'hash', expireAtMs, items: [...v.fields].map(([f, x]) => `${hex(f)}=${hex(x)}`).sort() }); break;
      case 'set': out.set(hex(key), { type: 'set', expireAtMs, items: [...v.members].map((m) => hex(m)).sort() }); break;
      case 'zset': out.set(hex(key), { type: 'zset', expireAtMs, items: [...v.scores].map(([m, s]) => `${hex(m)}=${scoreText(s)}`).sort() }); break;
      case 'list': out.set(hex(key), { type: 'list', expireAtMs, items: v.items.map(hex) }); break;
      case 'stream':
        if (profile === '4.0') out.set(hex(key), { type: 'stream', expireAtMs: null, items: v.entries.map((x) => `${x.id.ms}-${x.id.seq}:${x.fields.map(hex).join(',')}`) });
        break;
    }
  }
  return out;
}

function writeSomeData(m: PikaMaster, db: number, tag: string): void {
  const exec = (...argv: (string | Buffer)[]): void => {
    const reply = m.exec(db, argv).toString('latin1');
    assert.ok(!reply.startsWith('-'), `${argv.join(' ')}: ${reply}`);
  };
  for (let i = 0; i < 300; i++) exec('SET', `${tag}:s:${i}`, `value-${i}-${'x'.repeat(i % 50)}`);
  exec('SET', Buffer.from(`${tag}:bin\0\xff`, 'latin1'), Buffer.from([0, 1, 2, 255, 0]));
  exec('SET', `${tag}:empty`, '');
  exec('SETEX', `${tag}:ttl`, '3600', 'soon gone');
  exec('HMSET', `${tag}:h`, ...Array.from({ length: 5000 }, (_, i) => [`f${i}`, `v${i}`]).flat());
  exec('RPUSH', `${tag}:l`, ...Array.from({ length: 4500 }, (_, i) => `item${i}`));
  exec('LPUSH', `${tag}:l`, 'head');
  exec('SADD', `${tag}:set`, 'a', 'b', Buffer.from([0, 0, 1]));
  exec('ZADD', `${tag}:z`, 'inf', 'top', '-inf', 'bottom', '1.5', 'mid', '0.1', 'tenth');
  exec('PEXPIRE', `${tag}:h`, '7200000');
  exec('XADD', `${tag}:x`, '1-1', 'f', 'v');
  exec('XADD', `${tag}:x`, '2-0', 'a', 'b', 'c', 'd');
}

async function dbSync(client: RawPbClient, db: string, filenum: number): Promise<Msg> {
  const before = client.frames.length;
  client.sendBody(request({ type: 3, db_sync: { node, slot: { db_name: db, slot_id: 0 }, binlog_offset: { filenum, offset: 0, term: 0, index: 0 } } }));
  assert.ok(await client.waitFor(() => client.frames.slice(before).some((f) => (decodeInnerResponse(f) as Msg).type === 'kDBSync'), 20_000));
  return client.frames.slice(before).map((f) => decodeInnerResponse(f) as Msg).find((r) => r.type === 'kDBSync')!;
}

describe('test master full sync (DBSync → real RocksDB dump → rsync2 → TrySync)', { skip: rocksDbMissing() ?? false }, () => {
  const masters: PikaMaster[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const m of masters) await m.stop();
    for (const d of [...masters.map((m) => m.dir), ...dirs]) await rm(d, { recursive: true, force: true });
  });

  for (const profile of ['4.0', '3.5'] as const) {
    it(`${profile}: the downloaded dump equals the master at DBSync time; the binlog continues from its offset`, async () => {
      const m = await startPikaMaster({ dbs: 2, profile, dumpCompression: profile === '4.0' ? 'snappy' : 'zlib' });
      masters.push(m);
      writeSomeData(m, 0, 'a');
      writeSomeData(m, 1, 'other-db');
      const repl = await RawPbClient.connect(m.ports.repl);
      repl.sendBody(request({ type: 1, meta_sync: { node } }));
      assert.ok(await repl.waitFor(() => repl.frames.length >= 1, 5000));

      const release = m.fullSync.hold();
      const reply = await dbSync(repl, 'db0', 0);
      assert.equal(reply.code, 'kOk');
      const atDump = m.state(0);
      const positionAtDump = m.binlogPosition(0);
      // Writes after the dump point: they must come through the binlog, not the dump.
      m.exec(0, ['SET', 'after:1', 'x']);
      m.exec(0, ['DEL', 'a:s:1']);
      m.exec(0, ['HSET', 'a:h', 'f1', 'changed']);
      release();

      const local = await mkdtemp(join(tmpdir(), 'fullsync-client-'));
      dirs.push(local);
      const result = await downloadDump({
        db: 'db0', dir: local, connect: tcpTransportFactory('127.0.0.1', m.ports.rsync),
        metaPollInitialMs: 20, metaPollMaxMs: 200, chunkBytes: 64 * 1024,
      });
      const infoBytes = await readFile(join(result.dumpDir, 'info'));
      const info = parseDumpInfo(infoBytes);
      assert.equal(createHash('md5').update(infoBytes).digest('hex'), result.snapshotUuid);
      assert.deepEqual([info.filenum, info.offset], [positionAtDump.filenum, positionAtDump.offset]);
      assert.equal(info.port, m.ports.resp);

      const actual = await collectDump(result.dumpDir, Date.now());
      const expected = expectedFrom(atDump, profile);
      assert.equal(describeDiff(expected, actual), '');
      assert.equal(actual.size, expected.size);

      // TrySync at the dump offset → kOk, then the binlog starts right after the dump.
      const before = repl.frames.length;
      repl.sendBody(request({ type: 2, try_sync: { node, slot: { db_name: 'db0', slot_id: 0 }, binlog_offset: { filenum: info.filenum, offset: info.offset } } }));
      assert.ok(await repl.waitFor(() => repl.frames.slice(before).some((f) => (decodeInnerResponse(f) as Msg).type === 'kTrySync'), 5000));
      const trySync = repl.frames.slice(before).map((f) => decodeInnerResponse(f) as Msg).find((r) => r.type === 'kTrySync')!;
      assert.equal(trySync.try_sync.reply_code, 'kOk');
      const at = { filenum: info.filenum, offset: info.offset };
      const from = repl.frames.length;
      repl.sendBody(request({ type: 4, binlog_sync: { node, db_name: 'db0', slot_id: 0, ack_range_start: at, ack_range_end: at, session_id: trySync.try_sync.session_id, first_send: true } }));
      const items = (): Msg[] => repl.frames.slice(from).flatMap((f) => (decodeInnerResponse(f) as Msg).binlog_sync ?? []).filter((b: Msg) => b.binlog.length > 0);
      assert.ok(await repl.waitFor(() => items().length >= 3, 10_000), 'the three later writes arrive');
      const commands = items().map((b) => Buffer.from(b.binlog).subarray(34).toString('latin1'));
      assert.match(commands[0]!, /after:1/);
      assert.match(commands[1]!, /a:s:1/);
      assert.match(commands[2]!, /changed/);
      assert.equal(items().length, 3);
      repl.close();
    });
  }

  it('TryDBSync reuses the last dump for a small filenum and makes a new one beyond kDBSyncMaxGap', async () => {
    const m = await startPikaMaster({ dbs: 1 });
    masters.push(m);
    m.exec(0, ['SET', 'k', 'v1']);
    const repl = await RawPbClient.connect(m.ports.repl);
    repl.sendBody(request({ type: 1, meta_sync: { node } }));
    await repl.waitFor(() => repl.frames.length >= 1, 5000);
    await dbSync(repl, 'db0', 0);
    await m.fullSync.idle();
    const bgsave = m.fullSync.bgsaves[0]!;
    const first = await bgsave.snapshotUuid();
    m.exec(0, ['SET', 'k', 'v2']);
    await dbSync(repl, 'db0', 0);
    assert.equal(bgsave.bgsaving, false, 'the existing dump is reused');
    assert.equal(await bgsave.snapshotUuid(), first);
    await dbSync(repl, 'db0', bgsave.position.filenum + 51);
    assert.equal(bgsave.bgsaving, true, 'a slave this far ahead forces a new bgsave');
    await m.fullSync.idle();
    assert.notEqual(await bgsave.snapshotUuid(), first);
    const meta = await bgsave.metaData();
    assert.ok(bgsave.path.endsWith(join('dump', bgsave.path.split('/').at(-2)!, 'db0')));
    assert.match(bgsave.path.split('/').at(-2)!, /^\d{8}$/);
    assert.equal(meta.filenames.at(-1), 'info');
    repl.close();
  });

  it('stop() completes while a bgsave is held open, and the dump still finishes', async () => {
    const m = await startPikaMaster({ dbs: 1 });
    m.exec(0, ['SET', 'k', 'v']);
    m.fullSync.hold();
    const dump = m.fullSync.bgsave(0);
    assert.equal(m.fullSync.bgsaves[0]!.bgsaving, true);
    await m.stop();
    const result = await dump;
    assert.equal(result?.keys, 1);
    await rm(m.dir, { recursive: true, force: true });
  });

  it('3.5.0–3.5.4 quirks: meta unanswered while dumping; a filenum below the dump forces a new bgsave', async () => {
    const m = await startPikaMaster({ dbs: 1, profile: '3.5', binlogFileSize: 1024, fullSyncQuirks: { silentMetaWhileBgsaving: true, unsignedDbSyncGap: true } });
    masters.push(m);
    for (let i = 0; i < 20; i++) m.exec(0, ['SET', `k${i}`, 'x'.repeat(300)]);
    assert.ok(m.binlogPosition(0).filenum >= 2, 'several binlog files');
    const repl = await RawPbClient.connect(m.ports.repl);
    repl.sendBody(request({ type: 1, meta_sync: { node } }));
    await repl.waitFor(() => repl.frames.length >= 1, 5000);
    const release = m.fullSync.hold();
    await dbSync(repl, 'db0', 0);
    const rsync = await RawPbClient.connect(m.ports.rsync);
    const meta = Buffer.from([0x08, 0x01, 0x10, 0x00, 0x1a, 0x03, 0x64, 0x62, 0x30, 0x20, 0x00]); // pika-protocol.md §3
    rsync.sendBody(meta);
    assert.equal(await rsync.waitFor(() => rsync.frames.length > 0, 500), false, 'no reply while the bgsave runs');
    release();
    await m.fullSync.idle();
    rsync.sendBody(meta);
    assert.ok(await rsync.waitFor(() => rsync.frames.length > 0, 5000), 'answered once the dump is done');
    rsync.close();
    // The dump sits at a later binlog file than the slave announces (0): 0 − F wraps to a huge unsigned gap.
    const bgsave = m.fullSync.bgsaves[0]!;
    assert.ok(bgsave.position.filenum > 0);
    await dbSync(repl, 'db0', 0);
    assert.equal(bgsave.bgsaving, true, 'a new bgsave, where 4.0.1 / 3.5.5 would reuse the dump');
    await m.fullSync.idle();
    repl.close();
  });
});
