/**
 * Dump decoding throughput: reads the Pika 4.0.1 and 3.5.5 vector dumps (`../shared/…`) repeatedly through
 * `readDbDump` and prints keys/s, elements/s, MB/s of decoded payload, CPU time (the machine may be shared, so
 * elements per CPU-second is the steadier figure) and peak RSS.
 *
 *   npx tsx bench/dump-decode.ts [rounds=5]
 */
import { fileURLToPath } from 'node:url';
import { readDbDump } from '../connector/pika/dump/dump-reader.ts';

const shared = new URL('../../shared/', import.meta.url);
const dumps = [
  { name: '4.0.1 Floyd', dir: fileURLToPath(new URL('pika-vectors/master_dump/20261122/', shared)) },
  { name: '3.5.5 Blackwidow', dir: fileURLToPath(new URL('pika-vectors-3.5.5/master_dump/20261122/', shared)) },
];
const rounds = Number(process.argv[2] ?? 5);
const nowMs = Date.UTC(2026, 10, 23);

let peakRss = 0;
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};
const timer = setInterval(sampleRss, 50);

for (const d of dumps) {
  let keys = 0;
  let elements = 0;
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    for (const db of ['db0', 'db1']) {
      for await (const rec of readDbDump(d.dir + db, db, { nowMs, onWarning: () => undefined })) {
        if (rec.kind === 'string') {
          keys++;
          bytes += rec.value.length;
        } else if (rec.kind === 'key-start') keys++;
        else if (rec.kind === 'elements') {
          elements += rec.items.length;
          for (const it of rec.items as unknown[]) {
            if (it instanceof Uint8Array) bytes += it.length;
            else if (typeof it === 'object' && it !== null && 'value' in it) bytes += (it as { value: Uint8Array }).value.length;
          }
        }
      }
    }
    sampleRss();
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  console.log(
    `${d.name.padEnd(18)} ${rounds} rounds: ${keys} keys, ${elements} elements in ${secs.toFixed(2)} s wall, ` +
      `${cpuSecs.toFixed(2)} s CPU → ${Math.round(keys / secs)} keys/s, ${Math.round(elements / secs)} elements/s, ` +
      `${(bytes / secs / 1e6).toFixed(1)} MB/s values (${Math.round(elements / cpuSecs)} elements per CPU-second)`,
  );
}
clearInterval(timer);
sampleRss();
console.log(`peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
