// A download in its own process, for the SIGKILL test of rsync-resume.test.ts:
//   node --import tsx download-child.ts <port> <dir> <chunkBytes> <checkpointBytes>
// Downloads db0 from 127.0.0.1:<port> with one reader; prints "done" when finished (the test kills it before).
import { downloadDump } from '../../../../../connector/pika/rsync/rsync-client.ts';
import { tcpTransportFactory } from '../../../../../connector/pika/rsync/transport.ts';

const [port, dir, chunkBytes, checkpointBytes] = process.argv.slice(2);
await downloadDump({
  db: 'db0',
  dir: dir!,
  readers: 1,
  chunkBytes: Number(chunkBytes),
  checkpointBytes: Number(checkpointBytes),
  connect: tcpTransportFactory('127.0.0.1', Number(port)),
});
process.stdout.write('done\n');
