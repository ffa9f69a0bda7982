// An rsync daemon's owner in its own process, for the SIGKILL test of rsync-daemon.test.ts:
//   node --import tsx daemon-owner-child.ts <port> <root>
// Starts the daemon (module <root>/module, control <root>/control), prints "pid <daemon pid>", then waits to be killed.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RsyncDaemon, pbPushModule } from '../../../../../connector/pika/rsync-daemon/index.ts';
import { quietLogger } from '../../../../helpers/local-net.ts';

const [port, root] = process.argv.slice(2);
const controlDir = join(root!, 'control');
const daemon = new RsyncDaemon({ port: Number(port), bind: '127.0.0.1', module: pbPushModule(join(root!, 'module'), undefined), controlDir, purpose: 'owner SIGKILL test', logger: quietLogger });
await daemon.start();
process.stdout.write(`pid ${(await readFile(join(controlDir, 'rsyncd.owner.pid'), 'utf8')).trim()}\n`);
setInterval(() => {}, 60_000);
