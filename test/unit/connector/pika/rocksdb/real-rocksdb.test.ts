import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { BlockThread } from '../../../../../connector/pika/rocksdb/block-thread.ts';
import { ReadOnlyDb, type OpenDbOptions } from '../../../../../connector/pika/rocksdb/db.ts';
import { Table } from '../../../../../connector/pika/rocksdb/table.ts';

/**
 * Compares the reader with real RocksDB: `test/fixtures/rocksdb-gen/gen.cc` (compiled here against Debian's
 * librocksdb-dev) writes databases with several compressions, format versions, checksum types and index kinds,
 * and lists what RocksDB's own iterator returns; the reader must return exactly that.
 */
const run = promisify(execFile);
const source = fileURLToPath(new URL('../../../../fixtures/rocksdb-gen/gen.cc', import.meta.url));
const haveRocksDb = existsSync('/usr/include/rocksdb/db.h');

const VARIANTS = [
  { variant: 0, what: 'snappy, format_version 5, XXH3, binary-search index', compression: 'Snappy', formatVersion: 5, checksumType: 4 },
  { variant: 1, what: 'LZ4, format_version 4, crc32c, partitioned index', compression: 'LZ4', formatVersion: 4, checksumType: 1 },
  { variant: 2, what: 'ZSTD, format_version 3, xxHash64, data block hash index', compression: 'ZSTD', formatVersion: 3, checksumType: 3 },
  { variant: 3, what: 'zlib, format_version 5, xxHash32, index restart interval 4', compression: 'Zlib', formatVersion: 5, checksumType: 2 },
  { variant: 4, what: 'no compression, format_version 2, crc32c', compression: 'NoCompression', formatVersion: 2, checksumType: 1 },
];

let work: string;
let gen: string;

describe('reader vs real RocksDB (librocksdb-dev)', { skip: haveRocksDb ? false : 'librocksdb-dev is not installed (apt-get install librocksdb-dev)' }, () => {
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'rocksdb-gen-'));
    gen = join(work, 'gen');
    await run('g++', ['-O1', '-std=c++17', source, '-lrocksdb', '-o', gen], { timeout: 300_000 });
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const v of VARIANTS) {
    it(v.what, async () => {
      const dir = join(work, `v${v.variant}`);
      await mkdir(dir);
      await run(gen, [dir, String(v.variant), String(1000 + v.variant)], { timeout: 120_000 });
      const expected = parseExpected(await readFile(join(dir, 'expected.txt'), 'latin1'));
      await checkReader(dir, v, expected);
      // The same through the block thread (windows read ahead are unpacked there; seeks read in this thread).
      const thread = BlockThread.acquire();
      try {
        assert.equal(await thread.ready(), true);
        const before = thread.windowsUnpacked;
        await checkReader(dir, v, expected, { blockThread: true, blockThreadMinFileBytes: 0 });
        assert.ok(thread.windowsUnpacked > before, 'windows went through the block thread');
      } finally {
        thread.release();
      }
    });
  }
});

async function checkReader(dir: string, v: (typeof VARIANTS)[number], expected: Map<string, string[]>, opts: OpenDbOptions = {}): Promise<void> {
  const db = await ReadOnlyDb.open(dir, opts);
  try {
    assert.deepEqual(db.columnFamilyNames.sort(), ['data_cf', 'default', 'list_data_cf']);
    // The files really use the variant's options, several levels, and a WAL with unflushed data.
    const levels = new Set<number>();
    let maxFilesInLevel2 = 0;
    for (const cf of db.state.columnFamilies.values()) {
      maxFilesInLevel2 = Math.max(maxFilesInLevel2, [...cf.files.values()].filter((f) => f.level === 2).length);
      for (const f of cf.files.values()) {
        levels.add(f.level);
        const t = await Table.open(join(dir, `${String(f.number).padStart(6, '0')}.sst`));
        assert.equal(t.footer.formatVersion, v.formatVersion);
        assert.equal(t.footer.checksumType, v.checksumType);
        assert.equal(Buffer.from(t.properties.raw.get('rocksdb.compression')!).toString(), v.compression);
        assert.ok(t.dataBlocks.count > 1);
        await t.close();
      }
    }
    assert.deepEqual([...levels].sort(), [0, 2]);
    assert.ok(maxFilesInLevel2 >= 2, 'a level with several files (read through the level iterator)');
    for (const [cf, rows] of expected) {
      const got: string[] = [];
      const c = db.cursor(cf);
      for (await c.seekToFirst(); c.valid; await c.next()) got.push(`${Buffer.from(c.key).toString('hex')} ${Buffer.from(c.value).toString('hex')}`);
      assert.equal(got.length, rows.length, `entries in ${cf}`);
      assert.deepEqual(got, rows, `content of ${cf}`);
      // Seeks land where RocksDB's order says.
      for (let i = 0; i < rows.length; i += 97) {
        const key = Buffer.from(rows[i]!.split(' ')[0]!, 'hex');
        await c.seek(key);
        assert.equal(`${Buffer.from(c.key).toString('hex')} ${Buffer.from(c.value).toString('hex')}`, rows[i]);
      }
      // A seek back from a valid position, then forward again.
      for (const i of [rows.length >> 1, 3, rows.length - 2, rows.length >> 2]) {
        await c.seek(Buffer.from(rows[i]!.split(' ')[0]!, 'hex'));
        assert.equal(`${Buffer.from(c.key).toString('hex')} ${Buffer.from(c.value).toString('hex')}`, rows[i]);
      }
    }
  } finally {
    await db.close();
  }
}

function parseExpected(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of text.split('\n')) {
    if (!line) continue;
    if (line.startsWith('cf ')) out.set(line.slice(3), (cur = []));
    else cur!.push(line);
  }
  return out;
}
