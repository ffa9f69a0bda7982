/**
 * Full-sync decode throughput on a Floyd 4.0 dump written by real RocksDB (cached under .cache/bench/fullsync/):
 * `keys` mixed keys (~90% strings, the rest small hashes/sets/zsets/lists), 3 instances, snappy. Times a plain read
 * of the dump's files (the I/O ceiling on this machine, now), `passes` passes of `readDbDumpBatches` as a task
 * decodes by default (the task's thread, with the block thread where the machine has a second core:
 * `snapshot.decode.block.thread=auto`; the first pass cold), each followed by one without the block thread (all in
 * one thread), and prints the median and lowest of each and the ratio of the medians; the target is checked on the
 * default's median (this machine's speed swings ±15% from run to run, and more between runs minutes apart). Then one
 * pass of the lanes decoded by the worker pool (`threads`, default one per core), one of
 * `readDbDump` (one record at a time) and `snapshotEvents` with default split limits in one thread and with the
 * pool, and prints keys/s, MB/s of dump read, the decode as a ratio of the plain read, the pool's speed-up over one
 * thread (ratios and per-CPU-second figures are steadier than absolute rates on a shared machine; CPU seconds
 * count every thread) and the peak RSS. Target: ≥ 300k keys/s decode.
 *
 *   npx tsx bench/fullsync-decode.ts [keys=1000000] [threads=cores] [passes=3]
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { detectLayout, readDbDump, readDbDumpBatches } from '../connector/pika/dump/index.ts';
import { defaultDecodeThreads, readLanes } from '../connector/pika/dump/lane-pool.ts';
import { dumpLanes } from '../connector/pika/dump/lanes.ts';
import type { DumpRecord } from '../connector/pika/dump/index.ts';
import { snapshotEvents } from '../connector/pika/snapshot/index.ts';
import { BENCH_NOW_MS, mixedDump } from './helpers/fullsync-dumps.ts';
import { blockThreadByDefault } from '../connector/pika/rocksdb/block-thread.ts';
import { sampleRss } from './helpers/rss-sampler.ts';

const keyCount = Number(process.argv[2] ?? 1_000_000);
const threads = Number(process.argv[3] ?? defaultDecodeThreads());
const passes = Math.max(1, Number(process.argv[4] ?? 3));
const TARGET_KEYS_PER_S = 300_000;

const dump = await mixedDump(keyCount);
console.log(
  `dump: ${dump.keys} keys, ${dump.elements} collection elements, ${(dump.valueBytes / 1e6).toFixed(0)} MB of values; ` +
    `${(dump.diskBytes / 1e6).toFixed(0)} MB on disk in ${dump.files} files` +
    (dump.generatedInSeconds !== undefined ? ` (generated in ${dump.generatedInSeconds.toFixed(0)} s)` : ' (cached)'),
);

const rss = sampleRss(100);
const rate = (n: number, s: number): string => `${Math.round(n / s).toLocaleString('en')}/s`;

/** Reads every file of the dump once (256 KiB reads): the ceiling for any reader of it. */
async function plainRead(dir: string): Promise<number> {
  const buf = new Uint8Array(256 * 1024);
  let bytes = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const fh = await open(join(e.parentPath, e.name), 'r');
    try {
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        bytes += bytesRead;
      }
    } finally {
      await fh.close();
    }
  }
  return bytes;
}

const mbps = (bytes: number, s: number): string => `${(bytes / 1e6 / s).toFixed(1)} MB/s`;
let plainSecs = 0;
{
  const t0 = performance.now();
  const bytes = await plainRead(dump.dbDir);
  plainSecs = (performance.now() - t0) / 1000;
  console.log(`plain read:     ${(bytes / 1e6).toFixed(0)} MB in ${plainSecs.toFixed(2)} s → ${mbps(bytes, plainSecs)} (ceiling)`);
}

const targetCheck = (keysPerS: number): string => `target ≥ ${TARGET_KEYS_PER_S.toLocaleString('en')} keys/s: ${keysPerS >= TARGET_KEYS_PER_S ? 'met' : 'NOT met'}`;

async function timeDecode(name: string, records: AsyncIterable<DumpRecord | DumpRecord[]>): Promise<number> {
  let keys = 0;
  let elements = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const count = (rec: DumpRecord): void => {
    if (rec.kind === 'string' || rec.kind === 'key-start') keys++;
    else if (rec.kind === 'elements') elements += rec.items.length;
  };
  for await (const r of records) {
    if (Array.isArray(r)) for (const rec of r) count(rec);
    else count(r);
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  console.log(
    `${name.padEnd(22)}${keys} keys, ${elements} elements in ${secs.toFixed(1)} s wall / ${cpuSecs.toFixed(1)} s CPU → ` +
      `${rate(keys, secs)} keys, ${rate(elements, secs)} elements, ${mbps(dump.diskBytes, secs)} of dump, ` +
      `${mbps(dump.valueBytes, secs)} of values (${rate(keys, cpuSecs)} keys per CPU-second); ` +
      `${(plainSecs / secs).toFixed(3)}× the plain read's speed; ${targetCheck(keys / secs)}`,
  );
  if (keys !== dump.keys) console.log(`!! read ${keys} keys, the generator wrote ${dump.keys}`);
  return keys / secs;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function* laneRecords(n: number): AsyncGenerator<DumpRecord[]> {
  const layout = await detectLayout(dump.dbDir);
  const tasks = (await dumpLanes(dump.dbDir, layout)).map((lane) => ({ lane }));
  for await (const b of readLanes(dump.dbDir, 'db0', layout.kind, tasks, { ...readerOpts, threads: n, minParallelBytes: 0 })) yield b.records;
}

const readerOpts = { nowMs: BENCH_NOW_MS, onWarning: (w: string) => console.warn(w) };
const byDefault: number[] = [];
const oneThread: number[] = [];
for (let pass = 1; pass <= passes; pass++) {
  byDefault.push(await timeDecode(`default${pass === 1 ? ' (cold)' : ''}:`, readDbDumpBatches(dump.dbDir, 'db0', readerOpts)));
  oneThread.push(await timeDecode('no block thread:', readDbDumpBatches(dump.dbDir, 'db0', { ...readerOpts, blockThread: false })));
}
const fmt = (xs: number[]): string => `median ${rate(median(xs), 1)} keys, lowest ${rate(Math.min(...xs), 1)}`;
console.log(`default (block thread ${blockThreadByDefault() ? 'on' : 'off: one core'}) over ${passes} passes: ${fmt(byDefault)}; ${targetCheck(median(byDefault))}`);
console.log(`no block thread over ${passes} passes: ${fmt(oneThread)}; default / no block thread (medians): ${(median(byDefault) / median(oneThread)).toFixed(2)}×`);
if (threads > 1) {
  const poolRate = await timeDecode(`pool of ${threads} threads:`, laneRecords(threads));
  console.log(`pool / no block thread (median): ${(poolRate / median(oneThread)).toFixed(2)}× (lanes: ${(await dumpLanes(dump.dbDir, await detectLayout(dump.dbDir))).map((l) => l.id).join(' ')})`);
}
await timeDecode('readDbDump:', readDbDump(dump.dbDir, 'db0', readerOpts));

for (const n of threads > 1 ? [1, threads] : [1]) {
  let events = 0;
  let keyEvents = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const source = { host: '127.0.0.1', port: 9221, replication_id: null };
  const opts = { db: 'db0', sourceId: 'bench', source, nowMs: BENCH_NOW_MS, decodeThreads: n, onWarning: (w: string) => console.warn(w) };
  for await (const r of snapshotEvents(dump.dbDir, opts)) {
    events++;
    if (r.part !== null) keyEvents++;
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  console.log(
    `snapshotEvents (${n} thread${n > 1 ? 's' : ''}): ${events} events (${keyEvents} key events) in ${secs.toFixed(1)} s wall / ${cpuSecs.toFixed(1)} s CPU → ` +
      `${rate(events, secs)} events, ${rate(dump.keys, secs)} keys, ${mbps(dump.diskBytes, secs)} of dump (${rate(events, cpuSecs)} events per CPU-second); ` +
      `${(plainSecs / secs).toFixed(3)}× the plain read's speed`,
  );
}
console.log(rss.describe());
rss.stop();
