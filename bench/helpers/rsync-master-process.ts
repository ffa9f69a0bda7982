/**
 * A 4.0 test master in its own process serving an existing dump over rsync2 (for bench/fullsync-rsync.ts, so the
 * client's CPU and RSS are measured apart from the server's).
 *
 *   npx tsx bench/helpers/rsync-master-process.ts <db-dir>
 *
 * The master's data directory is a temp dir; `<dir>/dump/20261122/db0` is a symlink to `<db-dir>` (the rsync2
 * server only reads below its data directory), adopted as db0's last bgsave. Prints one JSON line
 * {"ready":true, rsync, dir}; on stdin `rss` prints {"rss": bytes, "maxRss": bytes}, `stop` stops and cleans up.
 */
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
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
say({ ready: true, rsync: master.ports.rsync, dir: master.dir });

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'rss') say({ rss: process.memoryUsage().rss, maxRss: process.resourceUsage().maxRSS * 1024 });
  else if (line === 'stop') break;
}
await master.stop();
rmSync(master.dir, { recursive: true, force: true });
process.exit(0);
