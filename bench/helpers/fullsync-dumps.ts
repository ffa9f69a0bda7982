// Benchmark dumps written by real RocksDB (test/fixtures/rocksdb-gen, Debian librocksdb-dev), cached under
// `.cache/bench/fullsync/<name>/` and reused while the generator source and the scale are unchanged. Each cached DB
// directory (`…/dump/<date>/db0`, the layout a Pika master serves) holds a Floyd 4.0 dump plus an `info` file.
// The generator's input is streamed in ~1 MiB pieces, so a dump of any size needs little memory here.

import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pikaGenBinary } from '../../test/fixtures/rocksdb-gen/build.ts';
import { GenFlag, GenInput } from '../../test/fixtures/rocksdb-gen/input-stream.ts';
import { floydInstanceOf, LIST_LEFT } from '../../test/fixtures/rocksdb-gen/keyspace-input.ts';
import { runPikaGen } from '../../test/fixtures/rocksdb-gen/run.ts';

const CACHE = fileURLToPath(new URL('../../.cache/bench/fullsync/', import.meta.url));
const PIECE_BYTES = 1 << 20;
const INSTANCES = 3;
/** Versions, ctimes and the liveness instant of every bench dump (nothing expires before it). */
export const BENCH_NOW_MS = Date.UTC(2026, 10, 22, 12, 0, 0);

export interface BenchDump {
  /** The DB directory (`info` + instance directories), for readDbDump / snapshotEvents. */
  dbDir: string;
  /** The master's data directory it sits in (`<root>/dump/<date>/db0`). */
  root: string;
  /** What was written: keys, collection elements, value bytes; plus dump size on disk and file count. */
  keys: number;
  elements: number;
  valueBytes: number;
  diskBytes: number;
  files: number;
  /** Seconds the generator took (when this call generated the dump). */
  generatedInSeconds?: number;
}

type Written = Pick<BenchDump, 'keys' | 'elements' | 'valueBytes'>;

/** Deterministic xorshift32 in [0, 1). */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

const ALPHABET = Buffer.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_');
/** `n` pseudo-random printable bytes (partly compressible, as real values are). */
function valueOf(rnd: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = ALPHABET[(rnd() * 64) | 0]!;
  return b;
}

/** A mixed keyspace: ~90% strings (16–200 byte values), the rest small hashes, sets, zsets and lists (1–20 items). */
function* mixedPieces(keyCount: number, written: Written): Generator<Buffer> {
  const input = new GenInput();
  const rnd = prng(0x5eed);
  const version = BigInt(BENCH_NOW_MS);
  const common = { version, ctimeMs: BENCH_NOW_MS };
  for (let i = 0; i < keyCount; i++) {
    const key = Buffer.from(`bench:key:${i}`);
    input.selectInstance(floydInstanceOf(key, INSTANCES));
    const kind = rnd();
    written.keys++;
    if (kind < 0.9) {
      const v = valueOf(rnd, 16 + ((rnd() * 185) | 0));
      written.valueBytes += v.length;
      input.string(key, v, { ctimeMs: BENCH_NOW_MS, etimeMs: kind < 0.05 ? BENCH_NOW_MS + 86_400_000 : 0 });
    } else {
      const n = 1 + ((rnd() * 20) | 0);
      const items = Array.from({ length: n }, (_, j) => [Buffer.from(`m${j}`), valueOf(rnd, 8 + ((rnd() * 40) | 0))] as [Buffer, Buffer]);
      written.elements += n;
      for (const [m, v] of items) written.valueBytes += m.length + v.length;
      if (kind < 0.94) input.hash({ ...common, key }, items);
      else if (kind < 0.96) input.set({ ...common, key }, items.map(([, v]) => v));
      else if (kind < 0.98) input.zset({ ...common, key }, items.map(([, v], j) => [v, j * 1.5 - 3] as [Buffer, number]));
      else input.list({ ...common, key, left: LIST_LEFT, right: LIST_LEFT + BigInt(n) + 1n }, items.map(([, v], j) => [LIST_LEFT + 1n + BigInt(j), v] as [bigint, Buffer]));
    }
    if (input.pendingBytes >= PIECE_BYTES) yield* input.drain();
  }
  yield* input.drain();
}

/** 1 MiB of printable pseudo-random bytes; big-hash values are slices of it (copying byte by byte is too slow). */
function valuePool(rnd: () => number): Buffer {
  return valueOf(rnd, 1 << 20);
}

/** One hash of `fields` fields with `valueBytes`-byte values, written 4096 fields per operation (meta first). */
function* bigHashPieces(fields: number, valueBytes: number, written: Written): Generator<Buffer> {
  const input = new GenInput();
  const rnd = prng(0xb16);
  const pool = valuePool(rnd);
  const key = Buffer.from('bench:big-hash');
  input.selectInstance(floydInstanceOf(key, INSTANCES));
  written.keys = 1;
  const perOp = 4096;
  for (let start = 0; start < fields; start += perOp) {
    const n = Math.min(perOp, fields - start);
    const items = Array.from({ length: n }, (_, j) => [Buffer.from(`field:${start + j}`), pool.subarray(...slot(rnd() * (pool.length - valueBytes), valueBytes))] as [Buffer, Buffer]);
    for (const [f, v] of items) written.valueBytes += f.length + v.length;
    written.elements += n;
    input.hash({ key, version: BigInt(BENCH_NOW_MS), ctimeMs: BENCH_NOW_MS, count: fields, flags: start === 0 ? 0 : GenFlag.noMeta }, items);
    if (input.pendingBytes >= PIECE_BYTES) yield* input.drain();
  }
  yield* input.drain();
}

const slot = (at: number, n: number): [number, number] => [at | 0, (at | 0) + n];

async function dirStats(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += (await stat(join(e.parentPath, e.name))).size;
  }
  return { bytes, files };
}

async function cachedDump(name: string, pieces: (w: Written) => Iterable<Buffer>, log: (m: string) => void): Promise<BenchDump> {
  const binary = await pikaGenBinary();
  const root = join(CACHE, name);
  const dbDir = join(root, 'dump', '20261122', 'db0');
  const marker = join(root, 'complete.json');
  const tag = binary.slice(binary.lastIndexOf('-') + 1);
  if (existsSync(marker)) {
    const done = JSON.parse(await readFile(marker, 'utf8')) as BenchDump & { generator: string };
    if (done.generator === tag) return { ...done, dbDir, root, generatedInSeconds: undefined };
  }
  log(`generating ${name} with real RocksDB (cached under ${root}) …`);
  await rm(root, { recursive: true, force: true });
  await mkdir(dbDir, { recursive: true });
  const written: Written = { keys: 0, elements: 0, valueBytes: 0 };
  const t0 = performance.now();
  await runPikaGen({ layout: 'floyd', dir: dbDir, instances: INSTANCES, compression: 'snappy' }, pieces(written));
  const generatedInSeconds = (performance.now() - t0) / 1000;
  // Pika's `info`: bgsave seconds, host, port, binlog filenum, offset.
  await writeFile(join(dbDir, 'info'), '0s\n127.0.0.1\n9221\n1\n0\n');
  const { bytes, files } = await dirStats(dbDir);
  const dump: BenchDump = { dbDir, root, ...written, diskBytes: bytes, files, generatedInSeconds };
  await writeFile(marker, JSON.stringify({ ...dump, generator: tag }));
  return dump;
}

/** Floyd dump of `keyCount` mixed keys (cache name includes the count). */
export function mixedDump(keyCount: number, log: (m: string) => void = console.log): Promise<BenchDump> {
  return cachedDump(`mixed-${keyCount}`, (w) => mixedPieces(keyCount, w), log);
}

/** Floyd dump holding one hash of `fields` × `valueBytes` (cache name includes both). */
export function bigHashDump(fields: number, valueBytes: number, log: (m: string) => void = console.log): Promise<BenchDump> {
  return cachedDump(`hash-${fields}x${valueBytes}`, (w) => bigHashPieces(fields, valueBytes, w), log);
}
