/**
 * rsync2 download throughput on loopback: the test master (its own process, bench/helpers/rsync-master-process.ts)
 * serves a cached real-RocksDB dump and `downloadDump` fetches it with 4 readers and 4 MiB chunks. Prints MB/s and
 * the client's RSS (sampled every 100 ms, and its maxRSS) next to the server's.
 *
 *   npx tsx bench/fullsync-rsync.ts [dump=mixed|hash] [scale]
 *     mixed: the mixed dump of bench/fullsync-decode.ts (scale = keys, default 1000000: ~185 MB in ~30 files)
 *     hash:  the big-hash dump of bench/fullsync-big-hash.ts (scale = fields × 100 B, default 5000000: ~600 MB)
 * Both dumps are shared with those benches (generated once, cached).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { downloadDump, tcpTransportFactory } from '../connector/pika/rsync/index.ts';
import { bigHashDump, mixedDump } from './helpers/fullsync-dumps.ts';
import { sampleRss } from './helpers/rss-sampler.ts';

const which = process.argv[2] ?? 'mixed';
if (which !== 'hash' && which !== 'mixed') throw new Error(`dump must be hash or mixed, got '${which}'`);
const scale = Number(process.argv[3] ?? (which === 'hash' ? 5_000_000 : 1_000_000));
const dump = which === 'hash' ? await bigHashDump(scale, 100) : await mixedDump(scale);
console.log(`serving the ${which} dump (scale ${scale}): ${(dump.diskBytes / 1e6).toFixed(0)} MB in ${dump.files} files`);

const script = fileURLToPath(new URL('./helpers/rsync-master-process.ts', import.meta.url));
const child = spawn(process.execPath, ['--import', 'tsx', script, dump.dbDir], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
const next = async (): Promise<Record<string, number>> => {
  const { value, done } = await lines.next();
  if (done) throw new Error('the master process exited');
  return JSON.parse(value as string) as Record<string, number>;
};
const exited = new Promise<void>((r) => child.once('exit', () => r()));
const local = await mkdtemp(join(tmpdir(), 'bench-rsync-'));
try {
  const ready = await next();
  const rss = sampleRss(100);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const result = await downloadDump({ db: 'db0', dir: local, connect: tcpTransportFactory('127.0.0.1', ready.rsync!), readers: 4, metaPollInitialMs: 50 });
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const files = Object.keys(result.files).length;
  console.log(
    `downloadDump (4 readers, 4 MiB chunks): ${(result.bytesReceived / 1e6).toFixed(0)} MB, ${files} files in ${secs.toFixed(1)} s ` +
      `→ ${(result.bytesReceived / 1e6 / secs).toFixed(1)} MB/s (client CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s)`,
  );
  console.log(`client: ${rss.describe()}`);
  rss.stop();
  child.stdin!.write('rss\n');
  const server = await next();
  console.log(`server (test master process): RSS ${(server.rss! / 2 ** 20).toFixed(0)} MiB, maxRSS ${(server.maxRss! / 2 ** 20).toFixed(0)} MiB`);
} finally {
  child.stdin!.write('stop\n');
  await exited;
  await rm(local, { recursive: true, force: true });
}
