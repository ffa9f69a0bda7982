// rsync2 server details that the recorded vectors do not reach: the 16 MiB block boundary of Pika's RsyncReader,
// empty files, four readers interleaved on one connection, a reader serving its cached block after the file
// changed, and requests Pika's proto2 parser rejects (connection closed).

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPikaMaster, type PikaMaster } from '../../../pika-master/index.ts';
import { decodeRsyncResponse, encodeRsyncRequest, RsyncCode, RsyncType, type RsyncResponse } from '../../../pika-master/fullsync/rsync-messages.ts';
import { READER_BLOCK_SIZE } from '../../../pika-master/fullsync/rsync-reader.ts';
import { RawPbClient } from '../repl/pb-client.ts';

const MiB = 1024 * 1024;

describe('test master rsync2 server', () => {
  let m: PikaMaster;
  let dump: string;
  let big: Buffer;
  before(async () => {
    m = await startPikaMaster({ dbs: 1, dir: await mkdtemp(join(tmpdir(), 'rsync2-unit-')) });
    dump = join(m.dir, 'dump', 'manual', 'db0');
    mkdirSync(join(dump, '0'), { recursive: true });
    big = Buffer.alloc(READER_BLOCK_SIZE + 3 * MiB);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    writeFileSync(join(dump, '0', '000001.sst'), big);
    writeFileSync(join(dump, '0', 'empty.log'), '');
    writeFileSync(join(dump, 'info'), '0s\n127.0.0.1\n9221\n0\n0\n');
    await m.fullSync.bgsaves[0]!.adoptDump(dump);
  });
  after(async () => {
    await m.stop();
    await rm(m.dir, { recursive: true, force: true });
  });

  const file = (reader: number, filename: string, offset: number, count: number): Buffer =>
    encodeRsyncRequest({ type: RsyncType.kRsyncFile, reader_index: reader, db_name: 'db0', slot_id: 0, file_req: { filename, offset, count } });

  async function ask(client: RawPbClient, body: Buffer): Promise<RsyncResponse> {
    const before = client.frames.length;
    client.sendBody(body);
    assert.ok(await client.waitFor(() => client.frames.length > before, 10_000), 'answered');
    return decodeRsyncResponse(client.frames[before]!);
  }

  it('never answers across a 16 MiB block boundary; eof exactly at the end; empty files are eof at 0', async () => {
    const client = await RawPbClient.connect(m.ports.rsync);
    try {
      const near = READER_BLOCK_SIZE - MiB;
      let r = await ask(client, file(0, '0/000001.sst', near, 4 * MiB));
      assert.equal(r.code, RsyncCode.kOk);
      assert.deepEqual([r.file_resp!.count, r.file_resp!.eof], [MiB, 0]);
      assert.ok(r.file_resp!.data.equals(big.subarray(near, READER_BLOCK_SIZE)));
      r = await ask(client, file(0, '0/000001.sst', READER_BLOCK_SIZE, 4 * MiB));
      assert.deepEqual([r.file_resp!.count, r.file_resp!.eof], [3 * MiB, 1]);
      assert.ok(r.file_resp!.data.equals(big.subarray(READER_BLOCK_SIZE)));
      r = await ask(client, file(1, '0/empty.log', 0, 4 * MiB));
      assert.deepEqual([r.code, r.file_resp!.count, r.file_resp!.eof], [RsyncCode.kOk, 0, 1]);
    } finally {
      client.close();
    }
  });

  it('four readers interleaved on one connection each read their own file; a cached block outlives a rewrite', async () => {
    const fill = [0x61, 0x62, 0x63, 0x64];
    fill.forEach((f, i) => writeFileSync(join(dump, '0', `${String.fromCharCode(f)}.sst`), Buffer.alloc(10_000 + i, f)));
    const client = await RawPbClient.connect(m.ports.rsync);
    try {
      // All four readers in flight at once, twice over (chunks 0 and 1 of each file).
      for (const offset of [0, 4000]) {
        const before = client.frames.length;
        fill.forEach((f, i) => client.sendBody(file(i, `0/${String.fromCharCode(f)}.sst`, offset, 4000)));
        assert.ok(await client.waitFor(() => client.frames.length >= before + 4, 10_000));
        const byReader = client.frames.slice(before).map((b) => decodeRsyncResponse(b)).sort((x, y) => x.reader_index - y.reader_index);
        byReader.forEach((r, i) => {
          assert.equal(r.file_resp!.filename, `0/${String.fromCharCode(fill[i]!)}.sst`);
          assert.equal(r.file_resp!.offset, offset);
          assert.ok(r.file_resp!.data.equals(Buffer.alloc(4000, fill[i]!)));
        });
      }
      // Pika's reader keeps the block of a.sst cached: a rewritten file is not re-read by that reader.
      writeFileSync(join(dump, '0', 'a.sst'), Buffer.alloc(10_000, 0x7a));
      const stale = await ask(client, file(0, '0/a.sst', 8000, 4000));
      assert.deepEqual([stale.file_resp!.count, stale.file_resp!.eof], [2000, 1]);
      assert.ok(stale.file_resp!.data.equals(Buffer.alloc(2000, 0x61)));
      const fresh = await ask(client, file(3, '0/a.sst', 8000, 4000));
      assert.ok(fresh.file_resp!.data.equals(Buffer.alloc(2000, 0x7a)));
    } finally {
      client.close();
    }
  });

  it('a missing file, a directory or an unparseable request', async () => {
    const client = await RawPbClient.connect(m.ports.rsync);
    const uuid = await m.fullSync.bgsaves[0]!.snapshotUuid();
    try {
      const missing = await ask(client, file(0, '0/nope.sst', 0, 10));
      assert.deepEqual([missing.code, missing.snapshot_uuid, missing.file_resp], [RsyncCode.kErr, uuid, undefined]);
      const dir = await ask(client, file(0, '0', 0, 10));
      assert.equal(dir.code, RsyncCode.kErr);
      // reader_index and db_name are required: Pika's ParseFromArray fails and the connection is closed.
      client.sendBody(Buffer.from([0x08, 0x01]));
      assert.ok(await client.waitFor(() => client.closed, 10_000), 'closed on a parse error');
    } finally {
      client.close();
    }
  });
});
