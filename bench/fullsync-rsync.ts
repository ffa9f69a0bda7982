/**
 * rsync2 download throughput on loopback: the test master (its own process, bench/helpers/rsync-master-process.ts)
 * serves a cached real-RocksDB dump and `downloadDump` fetches it with 4 readers and 4 MiB chunks. Prints MB/s and
 * the client's RSS (sampled every 100 ms, and its maxRSS) next to the server's.
 *
 * Ceiling, measured in the same run before and after the download: the same files streamed by the same server
 * process over plain loopback TCP (one connection per file, 4 at a time) into local files (fsync'd), with no
 * protocol at all. The bench prints rsync2 MB/s as a ratio of that ceiling (the mean of both measurements), which
 * stays comparable on a loaded machine where absolute MB/s do not.
 *
 *   npx tsx bench/fullsync-rsync.ts [dump=mixed|hash] [scale]
 *   BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p" …  to pass node flags to the server process
 *     mixed: the mixed dump of bench/fullsync-decode.ts (scale = keys, default 1000000: ~185 MB in ~30 files)
 *     hash:  the big-hash dump of bench/fullsync-big-hash.ts (scale = fields × 100 B, default 5000000: ~600 MB)
 * Both dumps are shared with those benches (generated once, cached).
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
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
const serverArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
const child = spawn(process.execPath, [...serverArgs, '--import', 'tsx', script, dump.dbDir], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
const next = async (): Promise<Record<string, number>> => {
  const { value, done } = await lines.next();
  if (done) throw new Error('the master process exited');
  return JSON.parse(value as string) as Record<string, number>;
};
const exited = new Promise<void>((r) => child.once('exit', () => r()));
const local = await mkdtemp(join(tmpdir(), 'bench-rsync-'));

/** Every file of the dump (relative names), as the rsync2 meta lists them. */
async function dumpFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  return out;
}

/** The ceiling: plain TCP from the server process into local files, 4 files at a time. MB/s. */
async function rawCopy(port: number, names: string[], into: string): Promise<number> {
  const queue = [...names];
  let bytes = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        const path = join(into, name);
        await mkdir(dirname(path), { recursive: true });
        const socket = connect({ host: '127.0.0.1', port });
        socket.write(`${name}\n`);
        socket.on('data', (c: Buffer) => void (bytes += c.length));
        await pipeline(socket, createWriteStream(path, { flush: true }));
      }
    }),
  );
  const mbs = bytes / 1e6 / ((performance.now() - t0) / 1000);
  await rm(into, { recursive: true, force: true });
  return mbs;
}

try {
  const ready = await next();
  const names = await dumpFiles(dump.dbDir);
  const ceilingBefore = await rawCopy(ready.raw!, names, join(local, 'raw'));
  const rss = sampleRss(100);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const result = await downloadDump({ db: 'db0', dir: local, connect: tcpTransportFactory('127.0.0.1', ready.rsync!), readers: 4, metaPollInitialMs: 50 });
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const clientRss = rss.describe();
  rss.stop();
  const ceilingAfter = await rawCopy(ready.raw!, names, join(local, 'raw'));
  const files = Object.keys(result.files).length;
  const mbs = result.bytesReceived / 1e6 / secs;
  const ceiling = (ceilingBefore + ceilingAfter) / 2;
  console.log(
    `downloadDump (4 readers, 4 MiB chunks): ${(result.bytesReceived / 1e6).toFixed(0)} MB, ${files} files in ${secs.toFixed(1)} s ` +
      `→ ${mbs.toFixed(1)} MB/s (client CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s)`,
  );
  console.log(
    `ceiling (plain TCP → files, 4 at a time, same server process): ${ceilingBefore.toFixed(1)} MB/s before, ${ceilingAfter.toFixed(1)} MB/s after ` +
      `→ rsync2 reaches ${((mbs / ceiling) * 100).toFixed(0)} % of it`,
  );
  console.log(`client during the download: ${clientRss}`);
  child.stdin!.write('rss\n');
  const server = await next();
  console.log(`server (test master process): RSS ${(server.rss! / 2 ** 20).toFixed(0)} MiB, maxRSS ${(server.maxRss! / 2 ** 20).toFixed(0)} MiB`);
} finally {
  child.stdin!.write('stop\n');
  await exited;
  await rm(local, { recursive: true, force: true });
}
