/**
 * Full-sync decode throughput on a Floyd 4.0 dump written by real RocksDB (cached under .cache/bench/fullsync/):
 * `keys` mixed keys (~90% strings, the rest small hashes/sets/zsets/lists), 3 instances, snappy. Times one pass of
 * `readDbDump` (keys/s, elements/s) and one of `snapshotEvents` with default split limits (events/s), and prints the
 * peak RSS (target: ≥ 300k keys/s decode).
 *
 *   npx tsx bench/fullsync-decode.ts [keys=1000000]
 */
import { readDbDump } from '../connector/pika/dump/index.ts';
import { snapshotEvents } from '../connector/pika/snapshot/index.ts';
import { BENCH_NOW_MS, mixedDump } from './helpers/fullsync-dumps.ts';
import { sampleRss } from './helpers/rss-sampler.ts';

const keyCount = Number(process.argv[2] ?? 1_000_000);
const TARGET_KEYS_PER_S = 300_000;

const dump = await mixedDump(keyCount);
console.log(
  `dump: ${dump.keys} keys, ${dump.elements} collection elements, ${(dump.valueBytes / 1e6).toFixed(0)} MB of values; ` +
    `${(dump.diskBytes / 1e6).toFixed(0)} MB on disk in ${dump.files} files` +
    (dump.generatedInSeconds !== undefined ? ` (generated in ${dump.generatedInSeconds.toFixed(0)} s)` : ' (cached)'),
);

const rss = sampleRss(100);
const rate = (n: number, s: number): string => `${Math.round(n / s).toLocaleString('en')}/s`;

{
  let keys = 0;
  let elements = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for await (const rec of readDbDump(dump.dbDir, 'db0', { nowMs: BENCH_NOW_MS, onWarning: (w) => console.warn(w) })) {
    if (rec.kind === 'string' || rec.kind === 'key-start') keys++;
    else if (rec.kind === 'elements') elements += rec.items.length;
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  console.log(
    `readDbDump:     ${keys} keys, ${elements} elements in ${secs.toFixed(1)} s wall / ${cpuSecs.toFixed(1)} s CPU → ` +
      `${rate(keys, secs)} keys, ${rate(elements, secs)} elements (${rate(keys, cpuSecs)} keys per CPU-second); ` +
      `target ≥ ${TARGET_KEYS_PER_S.toLocaleString('en')} keys/s: ${keys / secs >= TARGET_KEYS_PER_S ? 'met' : 'NOT met'}`,
  );
  if (keys !== dump.keys) console.log(`!! read ${keys} keys, the generator wrote ${dump.keys}`);
}

{
  let events = 0;
  let keyEvents = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const source = { host: '127.0.0.1', port: 9221, replication_id: null };
  for await (const r of snapshotEvents(dump.dbDir, { db: 'db0', sourceId: 'bench', source, nowMs: BENCH_NOW_MS, onWarning: (w) => console.warn(w) })) {
    events++;
    if (r.part !== null) keyEvents++;
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  console.log(
    `snapshotEvents: ${events} events (${keyEvents} key events) in ${secs.toFixed(1)} s wall / ${cpuSecs.toFixed(1)} s CPU → ` +
      `${rate(events, secs)} events (${rate(events, cpuSecs)} per CPU-second)`,
  );
}
console.log(rss.describe());
rss.stop();
