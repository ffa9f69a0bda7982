/**
 * Memory while snapshotting a dump that holds one big hash: `fields` fields × `value-bytes` (default 5M × 100 B,
 * ~500 MB of values) written by real RocksDB (cached under .cache/bench/fullsync/), decoded through
 * `snapshotEvents` with the default split limits. Prints elapsed time, events/s and the peak RSS (sampled every
 * 100 ms, and the kernel's maxRSS); target RSS < 300 MB. Only the decode runs in this process: the dump is generated
 * by a child process when it is not cached yet.
 *
 *   npx tsx bench/fullsync-big-hash.ts [fields=5000000] [value-bytes=100] [no-block-thread]
 *
 * By default the dump is decoded as a task does by default: with the block thread where the machine has a second
 * core (`snapshot.decode.block.thread=auto`; the helper thread's memory is included). `no-block-thread` decodes
 * all in this thread.
 *
 * What bounds the memory (no flag needed): the SST index is packed into typed arrays (this dump has 16
 * overlapping level-0 files open at once), each iterator holds at most two 256 KiB windows (four with the
 * block thread) and keeps one decoded block, records are handed over in batches of ≤ 256 KiB (at 1 MiB they outlived
 * young-generation GCs: +60 MiB), and fields are copied into pooled Buffers. Measured with Node's default heap: RSS
 * ~195 MiB with the block thread, ~150 MiB without (it was ~510 MiB; the V8 heap limit in force is printed with the
 * figures).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { blockThreadByDefault } from '../connector/pika/rocksdb/block-thread.ts';
import { snapshotEvents } from '../connector/pika/snapshot/index.ts';
import { BENCH_NOW_MS, bigHashDump } from './helpers/fullsync-dumps.ts';
import { sampleRss } from './helpers/rss-sampler.ts';

const fields = Number(process.argv[2] ?? 5_000_000);
const valueBytes = Number(process.argv[3] ?? 100);
const TARGET_RSS = 300 * 1e6;

if (process.argv[4] !== '--generate-only') {
  // Generate (or find cached) in a child so this process's maxRSS only reflects the decode.
  execFileSync(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--cpu-prof')), fileURLToPath(import.meta.url), String(fields), String(valueBytes), '--generate-only'], { stdio: 'inherit' });
} else {
  await bigHashDump(fields, valueBytes);
  process.exit(0);
}

const dump = await bigHashDump(fields, valueBytes, () => undefined);
console.log(
  `dump: 1 hash of ${dump.elements} fields, ${(dump.valueBytes / 1e6).toFixed(0)} MB of fields+values; ` +
    `${(dump.diskBytes / 1e6).toFixed(0)} MB on disk in ${dump.files} files` +
    (dump.generatedInSeconds !== undefined ? ` (generated in ${dump.generatedInSeconds.toFixed(0)} s)` : ''),
);

const rss = sampleRss(100);
const rssBefore = process.memoryUsage().rss;
let events = 0;
let maxParts = 0;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const source = { host: '127.0.0.1', port: 9221, replication_id: null };
const blockThread = process.argv[4] === 'no-block-thread' ? false : blockThreadByDefault();
for await (const r of snapshotEvents(dump.dbDir, { db: 'db0', sourceId: 'bench', source, nowMs: BENCH_NOW_MS, blockThread, onWarning: (w) => console.warn(w) })) {
  events++;
  if (r.part !== null) {
    maxParts = Math.max(maxParts, r.part);
  }
}
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const peak = rss.peak();
console.log(
  `snapshotEvents (${blockThread ? "block thread" : "no block thread"}): ${events} events (${maxParts} parts of the hash) in ${secs.toFixed(1)} s wall / ` +
    `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU → ${Math.round(events / secs)} events/s, ` +
    `${Math.round(dump.elements / secs).toLocaleString('en')} fields/s, ${(dump.valueBytes / 1e6 / secs).toFixed(1)} MB/s`,
);
console.log(`V8 heap limit ${(getHeapStatistics().heap_size_limit / 2 ** 20).toFixed(0)} MiB; RSS before decode ${(rssBefore / 2 ** 20).toFixed(0)} MiB; ${rss.describe()}; target < 300 MB: ${Math.max(peak, rss.maxRss()) < TARGET_RSS ? 'met' : 'NOT met'}`);
rss.stop();
