/**
 * A 4.0 test master in its own process serving an existing dump over rsync2 (for bench/fullsync-rsync.ts, so the
 * client's CPU and RSS are measured apart from the server's).
 *
 *   npx tsx bench/helpers/rsync-master-process.ts <db-dir>
 *
 * The master's data directory is a temp dir; `<dir>/dump/20261122/db0` is a symlink to `<db-dir>` (the rsync2
 * server only reads below its data directory), adopted as db0's last bgsave. Prints one JSON line
 * {"ready":true, rsync, raw, dir}; on stdin `rss` prints {"rss": bytes, "maxRss": bytes}, `stop` stops and cleans up.
 *
 * `raw` is the ceiling's port: a plain TCP server that reads one line (a file name relative to `<db-dir>`) per
 * connection and streams that file's bytes back, then closes — the same disks, loopback and files with no protocol.
 */
import { createReadStream, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { startPikaMaster } from '../../test/pika-master/index.ts';

const dbDir = process.argv[2];
if (!dbDir) throw new Error('usage: rsync-master-process.ts <db-dir>');
const master = await startPikaMaster({ dbs: 1, profile: '4.0', dbInstanceNum: 3 });
const served = join(master.dir, 'dump', '20261122', 'db0');
mkdirSync(join(served, '..'), { recursive: true });
symlinkSync(resolve(dbDir), served);
await master.fullSync.bgsaves[0]!.adoptDump(served);
const say = (o: object): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };
const raw = createServer((socket) => {
  let line = '';
  socket.on('data', (chunk) => {
    line += chunk.toString('latin1');
    const end = line.indexOf('\n');
    if (end < 0) return;
    socket.removeAllListeners('data');
    const name = line.slice(0, end);
    if (name.split('/').includes('..')) return void socket.destroy();
    createReadStream(join(dbDir, name), { highWaterMark: 1 << 20 }).pipe(socket);
  });
  socket.on('error', () => socket.destroy());
});
await new Promise<void>((done) => raw.listen(0, '127.0.0.1', done));
say({ ready: true, rsync: master.ports.rsync, raw: (raw.address() as AddressInfo).port, dir: master.dir });

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'rss') say({ rss: process.memoryUsage().rss, maxRss: process.resourceUsage().maxRSS * 1024 });
  else if (line === 'stop') break;
}
raw.close();
await master.stop();
rmSync(master.dir, { recursive: true, force: true });
process.exit(0);
