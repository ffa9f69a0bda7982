import assert from 'node:assert/strict';
import { appendFile, cp, mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { BlockThread } from '../../../../../connector/pika/rocksdb/block-thread.ts';
import { ReadOnlyDb } from '../../../../../connector/pika/rocksdb/db.ts';
import { RocksDbFormatError } from '../../../../../connector/pika/rocksdb/errors.ts';
import { readDbState } from '../../../../../connector/pika/rocksdb/manifest.ts';
import { Table } from '../../../../../connector/pika/rocksdb/table.ts';
import { encodeMetaKey } from '../../../../../connector/pika/dump/floyd-format.ts';
import { collectDump } from '../dump/dump-collect.ts';
import { encodeLog, encodeWriteBatch } from './log-writer.ts';

const dump401 = fileURLToPath(new URL('../../../../../../shared/pika-vectors/master_dump/20261122/', import.meta.url));
const NOW = Date.UTC(2026, 10, 23);
const latin1 = (s: string) => Buffer.from(s, 'latin1');

/** A Floyd string value: type 0 ‖ value ‖ reserve[16] ‖ ctime ‖ etime (no TTL). */
function floydString(value: Uint8Array): Uint8Array {
  const v = Buffer.alloc(1 + value.length + 32);
  Buffer.from(value).copy(v, 1);
  return v;
}

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rocksdb-reader-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function copyDb0(name: string): Promise<string> {
  const dir = join(work, name, 'db0');
  await cp(join(dump401, 'db0'), dir, { recursive: true });
  return dir;
}

describe('ReadOnlyDb on a real Pika 4.0.1 instance', () => {
  it('lists the 7 Floyd column families with their comparators', async () => {
    const db = await ReadOnlyDb.open(join(dump401, 'db0', '0'));
    try {
      assert.deepEqual(db.columnFamilyNames, ['default', 'hash_data_cf', 'set_data_cf', 'list_data_cf', 'zset_data_cf', 'zset_score_cf', 'stream_data_cf']);
      assert.equal(db.comparatorOf('list_data_cf').name, 'floyd.ListsDataKeyComparator');
      assert.equal(db.comparatorOf('zset_score_cf').name, 'floyd.ZSetsScoreKeyComparator');
    } finally {
      await db.close();
    }
  });

  it('seek positions at the first key >= target, in comparator order', async () => {
    const db = await ReadOnlyDb.open(join(dump401, 'db0', '0'));
    try {
      const c = db.cursor('hash_data_cf');
      const all: string[] = [];
      for (await c.seekToFirst(); c.valid; await c.next()) all.push(Buffer.from(c.key).toString('hex'));
      assert.equal(all.length, 5000);
      assert.deepEqual([...all].sort(), all, 'bytewise ascending');
      for (const i of [0, 1, 777, 4999]) {
        await c.seek(Buffer.from(all[i]!, 'hex'));
        assert.equal(Buffer.from(c.key).toString('hex'), all[i]);
      }
      await c.seek(Buffer.from('ff', 'hex'));
      assert.equal(c.valid, false);
    } finally {
      await db.close();
    }
  });
});

describe('WAL replay', () => {
  it('applies puts and deletes from a WAL newer than the MANIFEST log number over the SSTs (incl. a record spanning blocks)', async () => {
    const dbDir = await copyDb0('wal');
    const inst = join(dbDir, '0');
    const state = await readDbState(inst);
    const big = Buffer.alloc(100_000, 'x');
    const batch1 = encodeWriteBatch(state.lastSequence + 1, [
      { type: 'delete', cf: 0, key: encodeMetaKey(latin1('p1:str:plain')) },
      { type: 'put', cf: 0, key: encodeMetaKey(latin1('p1:str:mnx1')), value: floydString(latin1('changed')) },
      { type: 'put', cf: 0, key: encodeMetaKey(latin1('p1:wal:new')), value: floydString(latin1('from-wal')) },
    ]);
    const batch2 = encodeWriteBatch(state.lastSequence + 4, [
      { type: 'put', cf: 0, key: encodeMetaKey(latin1('p1:wal:big')), value: floydString(big) },
      { type: 'put', cf: 0, key: encodeMetaKey(latin1('p1:wal:new')), value: floydString(latin1('newer')) },
    ]);
    await writeFile(join(inst, '000030.log'), encodeLog([batch1, batch2]));
    const { keys, warnings } = await collectDump(dbDir, 'db0', { nowMs: NOW });
    assert.equal(keys.has('p1:str:plain'), false, 'deleted in the WAL');
    assert.deepEqual(keys.get('p1:str:mnx1')?.value, 'changed');
    assert.deepEqual(keys.get('p1:wal:new')?.value, 'newer', 'newest sequence wins');
    assert.equal(keys.get('p1:wal:big')?.value, big.toString('latin1'));
    assert.equal(warnings.filter((w) => !/EncodeUserKey/.test(w)).length, 0);
  });

  it('stops at a torn last record with a warning, as RocksDB point-in-time recovery does', async () => {
    const dbDir = await copyDb0('torn');
    const inst = join(dbDir, '0');
    const state = await readDbState(inst);
    const ok = encodeWriteBatch(state.lastSequence + 1, [{ type: 'put', cf: 0, key: encodeMetaKey(latin1('p1:wal:a')), value: floydString(latin1('a')) }]);
    const lost = encodeWriteBatch(state.lastSequence + 2, [{ type: 'put', cf: 0, key: encodeMetaKey(latin1('p1:wal:b')), value: floydString(latin1('b')) }]);
    const log = encodeLog([ok, lost]);
    await writeFile(join(inst, '000030.log'), log.subarray(0, log.length - 5));
    const { keys, warnings } = await collectDump(dbDir, 'db0', { nowMs: NOW });
    assert.equal(keys.get('p1:wal:a')?.value, 'a');
    assert.equal(keys.has('p1:wal:b'), false);
    assert.ok(warnings.some((w) => /000030\.log: log ends at offset/.test(w)), warnings.join('\n'));
  });

  it('rejects a checksum mismatch inside the WAL, naming the file and offset', async () => {
    const dbDir = await copyDb0('walcrc');
    const inst = join(dbDir, '0');
    const state = await readDbState(inst);
    const b = encodeWriteBatch(state.lastSequence + 1, [{ type: 'put', cf: 0, key: encodeMetaKey(latin1('k')), value: floydString(latin1('v')) }]);
    const log = encodeLog([b, b]);
    log[10] = log[10]! ^ 0xff; // inside the first record's payload
    await writeFile(join(inst, '000030.log'), log);
    await assert.rejects(collectDump(dbDir, 'db0', { nowMs: NOW }), (err: unknown) => {
      assert.ok(err instanceof RocksDbFormatError);
      assert.match(err.message, /000030\.log at offset 0: log record checksum mismatch/);
      return true;
    });
  });

  it('rejects a merge operation (Pika defines no merge operator)', async () => {
    const dbDir = await copyDb0('merge');
    const inst = join(dbDir, '0');
    const b = Buffer.from(encodeWriteBatch(1, [{ type: 'put', cf: 0, key: latin1('k'), value: latin1('v') }]));
    b[12] = 0x2; // kTypeMerge
    await writeFile(join(inst, '000030.log'), encodeLog([b]));
    await assert.rejects(ReadOnlyDb.open(inst), /000030\.log at offset 0: bad write batch: merge operation/);
  });
});

/** Flips a bit inside data block `pick(blockCount)` of an SST; returns that block's handle. */
async function damageBlock(sst: string, pick: (blockCount: number) => number): Promise<{ offset: number; size: number }> {
  const t = await Table.open(sst);
  const block = t.dataBlocks.handle(pick(t.dataBlocks.count));
  await t.close();
  const fh = await open(sst, 'r+');
  const one = Buffer.alloc(1);
  await fh.read(one, 0, 1, block.offset + 10);
  one[0] = one[0]! ^ 0x40;
  await fh.write(one, 0, 1, block.offset + 10);
  await fh.close();
  return block;
}

describe('damaged SST files', () => {
  it('a flipped byte in a data block fails its checksum; the error names the file and block offset', async () => {
    const dbDir = await copyDb0('flip');
    const sst = join(dbDir, '0', '000022.sst');
    const block = await damageBlock(sst, () => 5);
    await assert.rejects(collectDump(dbDir, 'db0', { nowMs: NOW }), (err: unknown) => {
      assert.ok(err instanceof RocksDbFormatError);
      assert.equal(err.file, sst);
      assert.equal(err.offset, block.offset);
      assert.match(err.message, /000022\.sst at offset \d+: data block checksum mismatch/);
      return true;
    });
  });

  it('a damaged block unpacked on the block thread is reported as in the scanning thread', async () => {
    const dbDir = await copyDb0('flip-thread');
    const sst = join(dbDir, '0', '000022.sst');
    // The last block: read ahead (through the thread), not in the first window read after the seek.
    const block = await damageBlock(sst, (count) => count - 1);
    const thread = BlockThread.acquire();
    try {
      assert.equal(await thread.ready(), true);
      const before = thread.windowsUnpacked;
      const db = await ReadOnlyDb.open(join(dbDir, '0'), { blockThread: true, blockThreadMinFileBytes: 0 });
      const scanAll = async (): Promise<void> => {
        for (const cf of db.columnFamilyNames) {
          const c = db.cursor(cf);
          for (await c.seekToFirst(); c.valid; await c.next());
        }
      };
      try {
        await assert.rejects(scanAll(), (err: unknown) => {
          assert.ok(err instanceof RocksDbFormatError);
          assert.equal(err.file, sst);
          assert.equal(err.offset, block.offset);
          assert.match(err.message, /000022\.sst at offset \d+: data block checksum mismatch/);
          return true;
        });
      } finally {
        await db.close();
      }
      assert.ok(thread.windowsUnpacked > before, 'the damaged block came through the block thread');
    } finally {
      thread.release();
    }
  });

  it('a truncated SST is reported with its name', async () => {
    const dbDir = await copyDb0('trunc');
    const sst = join(dbDir, '0', '000022.sst');
    await truncate(sst, 150_000);
    await assert.rejects(collectDump(dbDir, 'db0', { nowMs: NOW }), (err: unknown) => {
      assert.ok(err instanceof RocksDbFormatError);
      assert.equal(err.file, sst);
      assert.match(err.message, /bad table magic .*truncated/);
      return true;
    });
  });

  it('an SST listed in the MANIFEST but missing is reported with its name', async () => {
    const dbDir = await copyDb0('missing');
    await rm(join(dbDir, '1', '000023.sst'));
    await assert.rejects(collectDump(dbDir, 'db0', { nowMs: NOW }), /000023\.sst: cannot be opened \(ENOENT\)/);
  });

  it('a damaged MANIFEST record is reported with the MANIFEST name', async () => {
    const dbDir = await copyDb0('manifest');
    await appendFile(join(dbDir, '2', 'MANIFEST-000005'), Buffer.from([1, 2, 3, 4, 5, 0, 1, 9]));
    await assert.rejects(ReadOnlyDb.open(join(dbDir, '2')), /MANIFEST-000005 at offset \d+/);
  });
});
