// The test master's rsync2 server against real Pika 4.0.1 bytes:
// 1. the two recorded rsync2 conversations of a real full sync (pika-vectors/decoded/repl/rsync2_*): with the real
//    dump installed as the DB's bgsave, every recorded request gets a response byte-identical to the recorded one
//    (meta: same files, directory order aside);
// 2. the rsync2 error paths probed on a real master (pika-vectors-errors cases 24–42): same codes, uuids (empty or
//    the current dump's), reader echo, chunk sizes, eof, zero-filled reads past the end, path traversal, and the
//    connection close where the real master crashes.

import assert from 'node:assert/strict';
import { cpSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startPikaMaster, type PikaMaster } from '../../../pika-master/index.ts';
import { FrameDecoder } from '../../../pika-master/repl/frame-codec.ts';
import { InnerRequestType } from '../../../pika-master/repl/pb-messages.ts';
import { decodeRsyncRequest, decodeRsyncResponse, RsyncCode, RsyncType, type RsyncResponse } from '../../../pika-master/fullsync/rsync-messages.ts';
import { RawPbClient } from '../repl/pb-client.ts';
import { rocksDbMissing } from '../../../fixtures/rocksdb-gen/build.ts';

const shared = fileURLToPath(new URL('../../../../../shared/', import.meta.url));
const replDir = join(shared, 'pika-vectors/decoded/repl');
const realDump = join(shared, 'pika-vectors/master_dump/20261122');
const errorsDir = join(shared, 'pika-vectors-errors');

function frames(file: string): Buffer[] {
  return new FrameDecoder().push(readFileSync(file));
}

async function exchange(client: RawPbClient, body: Buffer): Promise<RsyncResponse> {
  const before = client.frames.length;
  client.sendBody(body);
  assert.ok(await client.waitFor(() => client.frames.length > before || client.closed, 20_000), 'no rsync2 response');
  assert.ok(client.frames.length > before, 'connection closed instead of answering');
  return decodeRsyncResponse(client.frames[before]!);
}

/** Installs a copy of the real 4.0.1 dump of `db` as that DB's last bgsave (under dump/vectors/<db>). */
async function adoptRealDump(m: PikaMaster, db: number): Promise<string> {
  const path = join(m.dir, 'dump', 'vectors', `db${db}`);
  cpSync(join(realDump, `db${db}`), path, { recursive: true });
  await m.fullSync.bgsaves[db]!.adoptDump(path);
  return path;
}

describe('rsync2 server vs the recorded real full sync', () => {
  let m: PikaMaster;
  before(async () => {
    m = await startPikaMaster({ dbs: 2, dir: await mkdtemp(join(tmpdir(), 'rsync2-rec-')) });
    await adoptRealDump(m, 0);
    await adoptRealDump(m, 1);
  });
  after(async () => {
    await m.stop();
    await rm(m.dir, { recursive: true, force: true });
  });

  for (const [conn, db] of [['19222_52898', 1], ['19222_52902', 0]] as const) {
    it(`conversation ${conn} (db${db}): every response as the real master sent it`, async () => {
      const requests = frames(join(replDir, `rsync2_${conn}_c2s.bin`));
      const recorded = frames(join(replDir, `rsync2_${conn}_s2c.bin`));
      // Responses came back out of order there: match them by what they answer.
      const keyOf = (r: { type: number; reader_index: number; file_req?: { filename: string; offset: number }; file_resp?: { filename: string; offset: number } }): string =>
        r.type === RsyncType.kRsyncMeta ? 'meta' : `${r.reader_index}:${(r.file_req ?? r.file_resp)!.filename}:${(r.file_req ?? r.file_resp)!.offset}`;
      const expected = new Map<string, Buffer[]>();
      for (const body of recorded) {
        const k = keyOf(decodeRsyncResponse(body));
        expected.set(k, [...(expected.get(k) ?? []), body]);
      }
      const client = await RawPbClient.connect(m.ports.rsync);
      try {
        for (const body of requests) {
          const req = decodeRsyncRequest(body);
          const want = expected.get(keyOf(req))!.shift()!;
          const wantMsg = decodeRsyncResponse(want);
          // The first meta of db0 was answered while the master was still dumping.
          const bgsave = m.fullSync.bgsaves[db]!;
          bgsave.bgsaving = wantMsg.code === RsyncCode.kErr;
          const before = client.frames.length;
          const got = await exchange(client, body);
          bgsave.bgsaving = false;
          if (req.type === RsyncType.kRsyncMeta) {
            assert.deepEqual({ ...got, meta_resp: got.meta_resp && { filenames: [...got.meta_resp.filenames].sort() } },
              { ...wantMsg, meta_resp: wantMsg.meta_resp && { filenames: [...wantMsg.meta_resp.filenames].sort() } });
          } else {
            assert.ok(client.frames[before]!.equals(want), `response to ${keyOf(req)} differs from the recorded bytes`);
          }
        }
      } finally {
        client.close();
      }
    });
  }
});

interface VectorEvent { conn?: string; dir?: string; file?: string; event?: string; kind?: string; msg?: Record<string, any> }
interface VectorCase { n: number; name: string; dir: string; events: VectorEvent[] }

describe('rsync2 error paths as on a real 4.0.1 master', { skip: rocksDbMissing() ?? false }, () => {
  const cases = new Map((JSON.parse(readFileSync(join(errorsDir, 'index.json'), 'utf8')) as { cases: VectorCase[] }).cases.map((c) => [c.n, c]));
  let m: PikaMaster;
  let dumpPath = '';
  before(async () => {
    m = await startPikaMaster({ dbs: 2, dir: await mkdtemp(join(tmpdir(), 'rsync2-err-')) });
  });
  after(async () => {
    await m.stop();
    await rm(m.dir, { recursive: true, force: true });
  });

  /** Replays the rsync2 requests of a case on one connection; returns pairs of our and the real response. */
  async function replay(n: number): Promise<{ req: ReturnType<typeof decodeRsyncRequest>; got: RsyncResponse | 'closed'; real: RsyncResponse | 'closed' }[]> {
    const c = cases.get(n)!;
    const client = await RawPbClient.connect(m.ports.rsync);
    const out: { req: ReturnType<typeof decodeRsyncRequest>; got: RsyncResponse | 'closed'; real: RsyncResponse | 'closed' }[] = [];
    try {
      const events = c.events.filter((e) => e.conn !== undefined && e.conn !== 'D' && (e.dir !== undefined || e.event === 'server_closed'));
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        if (e.dir !== 'c2s') continue;
        const body = readFileSync(join(errorsDir, c.dir, e.file!)).subarray(4);
        const next = events[i + 1];
        const real = next?.dir === 's2c' ? decodeRsyncResponse(readFileSync(join(errorsDir, c.dir, next.file!)).subarray(4)) : 'closed';
        const before = client.frames.length;
        client.sendBody(body);
        assert.ok(await client.waitFor(() => client.frames.length > before || client.closed, 20_000), `case ${n}: no reaction`);
        out.push({ req: decodeRsyncRequest(body), got: client.frames.length > before ? decodeRsyncResponse(client.frames[before]!) : 'closed', real });
      }
    } finally {
      client.close();
    }
    return out;
  }

  /** What our response must hold given the real one: same code/type/reader/db, uuid empty iff it was empty. */
  function sameShape(n: number, got: RsyncResponse | 'closed', real: RsyncResponse | 'closed', uuid: string): void {
    if (real === 'closed') return assert.equal(got, 'closed', `case ${n}: the real master closed the connection`);
    assert.notEqual(got, 'closed', `case ${n}: the real master answered`);
    const g = got as RsyncResponse;
    assert.equal(g.type, real.type);
    assert.equal(g.code, real.code, `case ${n}: code`);
    assert.equal(g.reader_index, real.reader_index);
    assert.equal(g.db_name, real.db_name);
    assert.equal(g.slot_id, 0);
    assert.equal(g.snapshot_uuid, real.snapshot_uuid ? uuid : '', `case ${n}: snapshot_uuid`);
    assert.equal(g.file_resp === undefined, real.file_resp === undefined, `case ${n}: file_resp presence`);
    assert.equal(g.meta_resp === undefined, real.meta_resp === undefined, `case ${n}: meta_resp presence`);
    if (g.file_resp) assert.equal(g.file_resp.checksum, '');
  }

  /** Our file bytes for a request, by Pika's reader rule (16 MiB blocks; past the end: `count` zero bytes). */
  function expectedChunk(filename: string, offset: number, count: number): { data: Buffer; eof: number } {
    const file = readFileSync(resolve(dumpPath, filename));
    if (offset > file.length) return { data: Buffer.alloc(count), eof: 0 };
    const blockEnd = Math.min(file.length, (Math.floor(offset / 16_777_216) + 1) * 16_777_216);
    const data = file.subarray(offset, Math.min(blockEnd, offset + count));
    return { data, eof: offset + data.length === file.length ? 1 : 0 };
  }

  it('case 24: meta before any bgsave → kOk, uuid "", only info', async () => {
    const [r] = await replay(24);
    sameShape(24, r!.got, r!.real, '');
    assert.deepEqual((r!.got as RsyncResponse).meta_resp, (r!.real as RsyncResponse).meta_resp);
  });

  it('cases 25-34, 41, 42 with the real dump installed', async () => {
    dumpPath = await adoptRealDump(m, 0);
    const uuid = await m.fullSync.bgsaves[0]!.snapshotUuid();
    assert.match(uuid, /^[0-9a-f]{32}$/);
    for (const n of [25, 26, 27, 29, 30, 32, 33, 34, 41, 42]) {
      const crashesBefore = m.fullSync.rsync.crashesAvoided;
      for (const { req, got, real } of await replay(n)) {
        sameShape(n, got, real, uuid);
        if (got === 'closed') {
          assert.equal(m.fullSync.rsync.crashesAvoided, crashesBefore + 1, 'reader_index 4 counted as a crash avoided');
          continue;
        }
        if (!got.file_resp) continue;
        const want = expectedChunk(req.file_req!.filename, req.file_req!.offset, req.file_req!.count);
        assert.equal(got.file_resp.filename, req.file_req!.filename);
        assert.equal(got.file_resp.offset, req.file_req!.offset);
        assert.equal(got.file_resp.count, want.data.length, `case ${n}: count for ${req.file_req!.filename}@${req.file_req!.offset}`);
        assert.equal(got.file_resp.eof, want.eof, `case ${n}: eof`);
        assert.ok(got.file_resp.data.equals(want.data), `case ${n}: data`);
        // Where the real master's answer does not depend on its own file sizes, it is the same.
        if (n === 30) assert.deepEqual([got.file_resp.count, got.file_resp.eof], [Number((real as RsyncResponse).file_resp!.count), 0]);
      }
    }
    // Path traversal (case 29) really read the master's pika.conf.
    const conf = readFileSync(join(m.dir, 'pika.conf'));
    assert.equal(statSync(join(dumpPath, '../../../pika.conf')).size, conf.length);
  });

  it('case 31: meta while a DBSync bgsave runs → kErr, uuid ""; then kOk with the new dump', async () => {
    m.exec(0, ['SET', 'k1', 'v1']);
    const release = m.fullSync.hold();
    const repl = await RawPbClient.connect(m.ports.repl);
    try {
      repl.sendBody(Buffer.from(InnerRequestType.encode(InnerRequestType.fromObject({
        type: 3, db_sync: { node: { ip: '127.0.0.1', port: 9407 }, slot: { db_name: 'db0', slot_id: 0 }, binlog_offset: { filenum: 100, offset: 0, term: 0, index: 0 } },
      })).finish()));
      assert.ok(await repl.waitFor(() => repl.frames.length > 0, 20_000), 'DBSync answered');
      // TryDBSync: the announced filenum is more than kDBSyncMaxGap past the dump's, so a new bgsave starts.
      assert.equal(m.fullSync.bgsaves[0]!.bgsaving, true);
      const c = cases.get(31)!;
      const metaReq = readFileSync(join(errorsDir, c.dir, '004_S_req.bin')).subarray(4);
      const rsync = await RawPbClient.connect(m.ports.rsync);
      try {
        const during = await exchange(rsync, metaReq);
        sameShape(31, during, decodeRsyncResponse(readFileSync(join(errorsDir, c.dir, '005_S_resp.bin')).subarray(4)), '');
        release();
        await m.fullSync.idle();
        const done = await exchange(rsync, metaReq);
        const uuid = await m.fullSync.bgsaves[0]!.snapshotUuid();
        sameShape(31, done, decodeRsyncResponse(readFileSync(join(errorsDir, c.dir, '009_S_resp.bin')).subarray(4)), uuid);
        const names = done.meta_resp!.filenames;
        for (const i of [0, 1, 2]) {
          assert.ok(names.includes(`${i}/CURRENT`) && names.some((f) => f.startsWith(`${i}/MANIFEST-`)) && names.some((f) => f.startsWith(`${i}/OPTIONS-`)), `instance ${i} listed: ${names}`);
        }
        assert.equal(names[names.length - 1], 'info');
        assert.ok(!names.some((f) => /(^|\/)(LOCK|LOG|IDENTITY)$/.test(f)), 'checkpoint files only');
      } finally {
        rsync.close();
      }
    } finally {
      release();
      repl.close();
    }
  });
});
