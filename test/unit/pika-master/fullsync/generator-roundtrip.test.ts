// Dumps written by real RocksDB (pika-gen, Debian librocksdb-dev) read back through the connector's pure-TS
// reader: every Pika type, TTLs (live and expired, ms and 4.0.0 seconds), binary keys and values, empty and big
// collections, churn (overwrites, deletes, stale versions, tombstones, orphans, popped list leftovers), several
// SSTs on L0 and L2 plus a WAL tail, each compression, in the 4.x (Floyd) and 3.5 (Blackwidow) layouts.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pikaGenBinary, rocksDbMissing } from '../../../fixtures/rocksdb-gen/build.ts';
import { runPikaGen, type GenCompression } from '../../../fixtures/rocksdb-gen/run.ts';
import { GenInput } from '../../../fixtures/rocksdb-gen/input-stream.ts';
import { ReadOnlyDb } from '../../../../connector/pika/rocksdb/db.ts';
import { Table } from '../../../../connector/pika/rocksdb/table.ts';
import { buildScenario, prng, type ExpectedDump } from './dump-scenario.ts';
import { collectDump, describeDiff } from './collect-dump.ts';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const COMPRESSIONS: { name: GenCompression; property: string }[] = [
  { name: 'none', property: 'NoCompression' },
  { name: 'snappy', property: 'Snappy' },
  { name: 'lz4', property: 'LZ4' },
  { name: 'zstd', property: 'ZSTD' },
  { name: 'zlib', property: 'Zlib' },
];

let work: string;

function assertSameDump(expected: ExpectedDump, actual: ExpectedDump): void {
  const diff = describeDiff(expected, actual);
  assert.equal(diff, '', `dump read back differs from what was written:\n${diff}`);
  assert.equal(actual.size, expected.size);
}

/** SST facts of one instance directory: levels used, compression names, format versions. */
async function sstFacts(dir: string): Promise<{ levels: Set<number>; compressions: Set<string>; formats: Set<number>; files: string[] }> {
  const db = await ReadOnlyDb.open(dir);
  const levels = new Set<number>();
  const compressions = new Set<string>();
  const formats = new Set<number>();
  try {
    for (const cf of db.state.columnFamilies.values()) {
      for (const f of cf.files.values()) {
        levels.add(f.level);
        const t = await Table.open(join(dir, `${String(f.number).padStart(6, '0')}.sst`));
        compressions.add(Buffer.from(t.properties.raw.get('rocksdb.compression')!).toString());
        formats.add(t.footer.formatVersion);
        await t.close();
      }
    }
  } finally {
    await db.close();
  }
  return { levels, compressions, formats, files: await readdir(dir) };
}

describe('pika-gen dumps read back by the TS reader', { skip: rocksDbMissing() ?? false }, () => {
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'pika-gen-rt-'));
    await pikaGenBinary();
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const layout of ['floyd', 'blackwidow'] as const) {
    for (const c of COMPRESSIONS) {
      it(`${layout === 'floyd' ? 'Pika 4.x Floyd' : 'Pika 3.5 Blackwidow'}, ${c.name}: exactly the live keys written`, async () => {
        const dir = join(work, `${layout}-${c.name}`);
        const scenario = buildScenario({ layout, seed: 7 + c.name.length, nowMs: NOW, instances: 3 });
        await runPikaGen({ layout, dir, compression: c.name, walTail: scenario.walTail, blockSize: 1024 }, scenario.input);
        const warnings: string[] = [];
        const actual = await collectDump(dir, NOW, warnings);
        assertSameDump(scenario.expected, actual);
        // Every type present, and the data really went through flushes, compactions and a WAL tail.
        const types = new Set([...actual.values()].map((e) => e.type));
        assert.deepEqual([...types].sort(), layout === 'floyd' ? ['hash', 'list', 'set', 'stream', 'string', 'zset'] : ['hash', 'list', 'set', 'string', 'zset']);
        const first = await sstFacts(join(dir, layout === 'floyd' ? '0' : 'hashes'));
        assert.ok(first.levels.has(0) && first.levels.has(2), `levels used: ${[...first.levels]}`);
        assert.deepEqual([...first.formats], [5]);
        // RocksDB leaves the bottom levels uncompressed only when compression is off.
        assert.ok(first.compressions.has(c.property), `compressions: ${[...first.compressions]}`);
        const tail = await readdir(join(dir, scenario.walTail[0]!));
        assert.ok(tail.some((f) => f.endsWith('.log')), `WAL kept in ${scenario.walTail[0]}: ${tail}`);
        assert.ok(!tail.includes('LOCK') && !tail.includes('LOG'), 'a checkpoint, not a live DB directory');
        if (layout === 'blackwidow') assert.ok(warnings.some((w) => w.includes('streams')), 'the 3.5 streams database is reported');
      });
    }
  }

  it('format_version 2-4 and other checksums read back too', async () => {
    for (const [formatVersion, checksum] of [[2, 'crc32c'], [3, 'xxhash64'], [4, 'xxhash']] as const) {
      const dir = join(work, `fv${formatVersion}`);
      const scenario = buildScenario({ layout: 'floyd', seed: formatVersion, nowMs: NOW, instances: 2, keysPerType: 20 });
      await runPikaGen({ layout: 'floyd', dir, instances: 2, formatVersion, checksum, walTail: scenario.walTail }, scenario.input);
      assertSameDump(scenario.expected, await collectDump(dir, NOW));
      assert.deepEqual([...(await sstFacts(join(dir, '0'))).formats], [formatVersion]);
    }
  });

  it('a huge hash, list and zset come back complete and in order', async () => {
    const dir = join(work, 'huge');
    const input = new GenInput().selectInstance(0);
    const rnd = prng(99);
    const fields: [Buffer, Buffer][] = Array.from({ length: 30_000 }, (_, i) => [Buffer.from(`field-${i}`), Buffer.from(`v${Math.floor(rnd() * 1e9)}`)]);
    input.hash({ key: 'big-hash', version: 1n }, fields);
    input.flush();
    const items: [bigint, Buffer][] = Array.from({ length: 30_000 }, (_, i) => [(1n << 63n) + BigInt(i), Buffer.from(`item-${i}`)]);
    input.list({ key: 'big-list', version: 1n, left: (1n << 63n) - 1n, right: (1n << 63n) + 30_000n }, items);
    input.zset({ key: 'big-zset', version: 1n }, Array.from({ length: 30_000 }, (_, i) => [Buffer.from(`m${i}`), i % 2 ? -i / 3 : i * 1e10] as [Buffer, number]));
    await runPikaGen({ layout: 'floyd', dir, instances: 1 }, input);
    const got = await collectDump(dir, NOW);
    const hash = got.get(Buffer.from('big-hash').toString('hex'))!;
    assert.ok(hash.type === 'hash' && hash.items.length === 30_000);
    const list = got.get(Buffer.from('big-list').toString('hex'))!;
    assert.ok(list.type === 'list');
    assert.deepEqual(list.items, items.map(([, v]) => v.toString('hex')));
    const zset = got.get(Buffer.from('big-zset').toString('hex'))!;
    assert.ok(zset.type === 'zset' && zset.items.length === 30_000);
  });

  it('100k keys in 3 instances: every one read back exactly', async () => {
    const dir = join(work, 'many');
    const input = new GenInput();
    const expected: ExpectedDump = new Map();
    const rnd = prng(2026);
    const instances = 3;
    for (let inst = 0; inst < instances; inst++) {
      input.selectInstance(inst);
      for (let i = inst; i < 100_500; i += instances) {
        const key = Buffer.from(`key:${i.toString(36)}:${i % 10 === 0 ? '\0' : ''}`, 'latin1');
        const value = Buffer.from(Math.floor(rnd() * 2 ** 40).toString(16).repeat(1 + (i % 4)));
        const etimeMs = i % 5 === 0 ? NOW + 1000 * (1 + i) : 0;
        input.string(key, value, { etimeMs });
        expected.set(key.toString('hex'), { type: 'string', value: value.toString('hex'), expireAtMs: etimeMs || null, hyperloglog: false });
        if (i % 20_000 === inst) input.flush();
      }
    }
    await runPikaGen({ layout: 'floyd', dir, instances, compression: 'snappy', walTail: ['2'] }, input);
    const actual = await collectDump(dir, NOW);
    assert.equal(actual.size, expected.size);
    assertSameDump(expected, actual);
  });

  it("--encode-user-key-bug stores a key as the real 4.0.1 dump holds it; the reader exports Pika's reading", async () => {
    const dir = join(work, 'key-bug');
    const damaged = Buffer.from('p1:bin:\x00\xff\x01key', 'latin1'); // phase1_pre_sync.redis
    await runPikaGen({ layout: 'floyd', dir, instances: 1, encodeUserKeyBug: true },
      new GenInput().selectInstance(0).string(damaged, 'v').string(Buffer.from('end\0', 'latin1'), 'w'));
    const raw: string[] = [];
    const db = await ReadOnlyDb.open(join(dir, '0'));
    const c = db.cursor('default');
    for (await c.seekToFirst(); c.valid; await c.next()) raw.push(Buffer.from(c.key).toString('hex'));
    await db.close();
    // The meta key of that key in pika-vectors/master_dump (db0), written by a real Pika 4.0.1.
    assert.ok(raw.includes('000000000000000070313a62696e3a00010000000000000000000000000000000000000000000000'), raw.join(' '));
    const warnings: string[] = [];
    const got = await collectDump(dir, NOW, warnings);
    assert.deepEqual([...got.keys()].sort(), [Buffer.from('end\0', 'latin1').toString('hex'), Buffer.from('p1:bin:\0', 'latin1').toString('hex')].sort());
    assert.ok(warnings.some((w) => w.includes('EncodeUserKey')));
  });

  it('refuses bad input with a clear message', async () => {
    await assert.rejects(runPikaGen({ layout: 'floyd', dir: join(work, 'bad') }, Buffer.from('?')), /unknown operation byte 63/);
    await assert.rejects(runPikaGen({ layout: 'floyd', dir: join(work, 'bad2'), instances: 2 }, new GenInput().selectInstance(5)), /instance 5 does not exist/);
    await assert.rejects(runPikaGen({ layout: 'floyd', dir: join(work, 'bad3') }, Buffer.from('s\0\x05\0\0')), /input ends inside an operation/);
  });
});
