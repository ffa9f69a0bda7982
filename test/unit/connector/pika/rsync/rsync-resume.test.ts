// Resuming inside a half-fetched file: the journal records how much of an unfinished file is written and fsync'd,
// and the next download of the same dump asks for that file only from there (a newer dump starts from 0).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, truncate } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FrameDecoder } from '../../../../../connector/pika/protocol/frame-decoder.ts';
import { decodeRsyncRequest, RsyncType, type RsyncRequest } from '../../../../../connector/pika/protocol/messages.ts';
import { RsyncError } from '../../../../../connector/pika/rsync/errors.ts';
import { loadJournal } from '../../../../../connector/pika/rsync/journal.ts';
import { downloadDump, type RsyncDownloadOptions } from '../../../../../connector/pika/rsync/rsync-client.ts';
import { tcpTransportFactory } from '../../../../../connector/pika/rsync/transport.ts';
import { FakeMaster, md5, ScriptedTransport } from './fake-transports.ts';

const KiB = 1024;
const BIG = '0/000010.sst';

const tmpDirs: string[] = [];
after(async () => {
  for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
});
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'pika-rsync-resume-'));
  tmpDirs.push(d);
  return d;
}

function dump(bigBytes: number, infoLine = '3s\n192.0.2.1\n9221\n4\n5678\n'): Record<string, Buffer> {
  return {
    '0/CURRENT': Buffer.from('MANIFEST-000005\n'),
    '0/MANIFEST-000005': randomBytes(3000),
    [BIG]: randomBytes(bigBytes),
    '0/000011.sst': randomBytes(200 * KiB),
    info: Buffer.from(infoLine),
  };
}

const fileRequests = (t: ScriptedTransport) =>
  t.requests.filter((x) => x.req.type === RsyncType.kRsyncFile).map((x) => ({ name: x.req.file_req!.filename, offset: Number(x.req.file_req!.offset) }));

const opts = (extra: Partial<RsyncDownloadOptions> & Pick<RsyncDownloadOptions, 'dir' | 'connect'>): RsyncDownloadOptions => ({
  db: 'db0',
  readers: 1,
  chunkBytes: 64 * KiB,
  checkpointBytes: 256 * KiB,
  sleep: async () => {},
  ...extra,
});

const fileMd5 = async (path: string) => createHash('md5').update(await readFile(path)).digest('hex');

describe('rsync2 download resumes inside an unfinished file', () => {
  it('after an abort mid-file, the next run asks for that file only from the journaled offset and rebuilds it byte for byte', async () => {
    const master = new FakeMaster(dump(1536 * KiB));
    const dir = await tmp();
    const ac = new AbortController();
    master.beforeFileReply = (req) => void (req.file_req!.filename === BIG && req.file_req!.offset === BigInt(640 * KiB) && ac.abort());
    await assert.rejects(
      downloadDump(opts({ dir, signal: ac.signal, connect: async () => new ScriptedTransport(master.answer) })),
      (e: RsyncError) => e.code === 'PIKA_RSYNC_ABORTED',
    );
    const journal = (await loadJournal(join(dir, 'db0')))!;
    const kept = journal.partial![BIG]!;
    assert.ok(kept >= 512 * KiB && kept < 1536 * KiB && kept % (64 * KiB) === 0, `journaled progress of ${BIG}: ${kept}`);
    assert.deepEqual(Object.keys(journal.files).sort(), ['0/CURRENT', '0/MANIFEST-000005']);

    master.beforeFileReply = () => {};
    let t!: ScriptedTransport;
    const r = await downloadDump(opts({ dir, connect: async () => (t = new ScriptedTransport(master.answer)) }));
    const asked = fileRequests(t);
    const big = asked.filter((x) => x.name === BIG).map((x) => x.offset);
    assert.equal(big[0], kept, 'the first request for the unfinished file starts at the journaled offset');
    assert.ok(big.every((o) => o >= kept), 'nothing before it is asked again');
    assert.deepEqual([...new Set(asked.map((x) => x.name))].sort(), [BIG, '0/000011.sst', 'info'].sort(), 'completed files are not asked again');
    assert.deepEqual(r.partsResumed, { [BIG]: kept });
    assert.equal(r.bytesReceived, [...master.files.values()].reduce((a, b) => a + b.length, 0) - kept - 3000 - 16);
    for (const [name, data] of master.files) assert.equal(await fileMd5(join(r.dumpDir, name)), md5(data), name);
    assert.deepEqual((await loadJournal(join(dir, 'db0')))!.partial, {}, 'a complete download has no unfinished files');
  });

  it('a newer dump (another snapshot_uuid) fetches the file again from offset 0', async () => {
    const master = new FakeMaster(dump(1024 * KiB));
    const dir = await tmp();
    const ac = new AbortController();
    master.beforeFileReply = (req) => void (req.file_req!.filename === BIG && req.file_req!.offset === BigInt(640 * KiB) && ac.abort());
    await assert.rejects(downloadDump(opts({ dir, signal: ac.signal, connect: async () => new ScriptedTransport(master.answer) })));
    const old = (await loadJournal(join(dir, 'db0')))!;
    assert.ok(old.partial![BIG]! > 0);

    master.replace(dump(1024 * KiB, '9s\n192.0.2.1\n9221\n5\n1\n'));
    master.beforeFileReply = () => {};
    let t!: ScriptedTransport;
    const r = await downloadDump(opts({ dir, connect: async () => (t = new ScriptedTransport(master.answer)) }));
    assert.notEqual(r.snapshotUuid, old.snapshot_uuid);
    assert.equal(fileRequests(t).find((x) => x.name === BIG)?.offset, 0);
    assert.deepEqual(r.partsResumed, {});
    assert.equal(r.filesResumed, 0);
    for (const [name, data] of master.files) assert.equal(await fileMd5(join(r.dumpDir, name)), md5(data), name);
    assert.deepEqual(await readdir(join(dir, 'db0')), [`dump-${r.snapshotUuid}`, 'rsync-journal.json'].sort(), 'the old dump is gone');
  });

  it('an unfinished file shorter on disk than its journal entry is fetched again from 0', async () => {
    const master = new FakeMaster(dump(1024 * KiB));
    const dir = await tmp();
    const ac = new AbortController();
    master.beforeFileReply = (req) => void (req.file_req!.filename === BIG && req.file_req!.offset === BigInt(640 * KiB) && ac.abort());
    await assert.rejects(downloadDump(opts({ dir, signal: ac.signal, connect: async () => new ScriptedTransport(master.answer) })));
    const j = (await loadJournal(join(dir, 'db0')))!;
    await truncate(join(dir, 'db0', `dump-${j.snapshot_uuid}`, BIG), 1000);
    master.beforeFileReply = () => {};
    let t!: ScriptedTransport;
    const r = await downloadDump(opts({ dir, connect: async () => (t = new ScriptedTransport(master.answer)) }));
    assert.equal(fileRequests(t).find((x) => x.name === BIG)?.offset, 0);
    assert.equal(await fileMd5(join(r.dumpDir, BIG)), md5(master.files.get(BIG)!));
  });

  it('after a SIGKILL mid-file, continues from the last fsync\'d checkpoint', { timeout: 60_000 }, async () => {
    const master = new FakeMaster(dump(3 * 1024 * KiB));
    // Replies for the big file past 1 MiB are held back until the kill: the killed process's last checkpoint is
    // then exactly 768 KiB (checkpoints every 256 KiB of completed writes; the write ending at 1 MiB is pending).
    let holding = true;
    const requests: { name: string; offset: number }[] = [];
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      const decoder = new FrameDecoder();
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        for (const payload of decoder.push(chunk)) {
          const req: RsyncRequest = decodeRsyncRequest(payload);
          if (req.type === RsyncType.kRsyncFile) {
            const f = req.file_req!;
            if (holding && f.filename === BIG && f.offset >= BigInt(1024 * KiB)) continue;
            requests.push({ name: f.filename, offset: Number(f.offset) });
          }
          const replies = master.answer(req);
          if (replies !== 'crash') for (const r of replies) socket.write(r);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const dir = await tmp();
    try {
      const script = fileURLToPath(new URL('./download-child.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', script, String(port), dir, String(64 * KiB), String(256 * KiB)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => void (output += c));
      child.stderr.on('data', (c: Buffer) => void (output += c));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const journaled = async () => (await loadJournal(join(dir, 'db0')).catch(() => undefined))?.partial?.[BIG] ?? 0;
      while ((await journaled()) < 768 * KiB) {
        assert.equal(child.exitCode, null, `the download process exited early: ${output}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill('SIGKILL');
      await exited;
      const kept = await journaled();
      assert.equal(kept, 768 * KiB);
      const before = requests.length;

      holding = false;
      const r = await downloadDump({ db: 'db0', dir, readers: 1, chunkBytes: 64 * KiB, connect: tcpTransportFactory('127.0.0.1', port) });
      const again = requests.slice(before);
      const big = again.filter((x) => x.name === BIG).map((x) => x.offset);
      assert.equal(big[0], kept, 'the first request for the unfinished file starts at the checkpoint');
      assert.ok(big.every((o) => o >= kept));
      assert.ok(!again.some((x) => x.name === '0/CURRENT' || x.name === '0/MANIFEST-000005'), 'completed files are not asked again');
      assert.deepEqual(r.partsResumed, { [BIG]: kept });
      for (const [name, data] of master.files) assert.equal(await fileMd5(join(r.dumpDir, name)), md5(data), name);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
