import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FrameDecoder } from '../../../../../connector/pika/protocol/frame-decoder.ts';
import { decodeRsyncRequest } from '../../../../../connector/pika/protocol/messages.ts';
import { downloadDump } from '../../../../../connector/pika/rsync/rsync-client.ts';
import { tcpTransportFactory } from '../../../../../connector/pika/rsync/transport.ts';
import { FakeMaster } from './fake-transports.ts';

describe('rsync2 over TCP', () => {
  it('downloads a dump from a local rsync2 server', async () => {
    const info = Buffer.from('0s\n127.0.0.1\n9221\n3\n1234\n');
    const sst = Buffer.from(Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff));
    const master = new FakeMaster({ '0/CURRENT': Buffer.from('MANIFEST-000005\n'), '0/MANIFEST-000005': Buffer.from('m'), '0/000001.sst': sst, info });
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      const decoder = new FrameDecoder();
      socket.on('data', (chunk) => {
        for (const payload of decoder.push(chunk)) {
          const replies = master.answer(decodeRsyncRequest(payload));
          if (replies === 'crash') socket.destroy();
          else for (const r of replies) socket.write(r);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = await mkdtemp(join(tmpdir(), 'pika-rsync-tcp-'));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await downloadDump({ db: 'db0', dir, chunkBytes: 65536, connect: tcpTransportFactory('127.0.0.1', port) });
      assert.deepEqual(await readFile(join(r.dumpDir, '0/000001.sst')), sst);
      assert.deepEqual(await readFile(join(r.dumpDir, 'info')), info);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a refused connection is a clear error', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    await assert.rejects(tcpTransportFactory('127.0.0.1', port)(), new RegExp(`rsync2 connect to 127.0.0.1:${port} failed`));
  });
});
