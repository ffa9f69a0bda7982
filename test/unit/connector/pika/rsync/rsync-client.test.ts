import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeRsyncRequest, encodeRsyncRequest, RsyncType } from '../../../../../connector/pika/protocol/messages.ts';
import { NewerDumpError, RsyncError } from '../../../../../connector/pika/rsync/errors.ts';
import { JOURNAL_FILE, loadJournal } from '../../../../../connector/pika/rsync/journal.ts';
import { completedDownload, downloadDump, type RsyncDownloadOptions } from '../../../../../connector/pika/rsync/rsync-client.ts';
import { snapshotEvents } from '../../../../../connector/pika/snapshot/snapshot-events.ts';
import { FakeMaster, md5, recordedServer, ScriptedTransport, splitFrames } from './fake-transports.ts';

const shared = new URL('../../../../../../shared/', import.meta.url);
const masterDump = fileURLToPath(new URL('pika-vectors/master_dump/20261122/', shared));
/** The captured rsync2 connections, one per DB (frames_index.jsonl of each vector set). */
const CAPTURES = [
  { version: '4.0.1', vectors: 'pika-vectors', db: 'db0', conn: 'rsync2_19222_52902', metas: 2 },
  { version: '4.0.1', vectors: 'pika-vectors', db: 'db1', conn: 'rsync2_19222_52898', metas: 1 },
  { version: '3.5.5', vectors: 'pika-vectors-3.5.5', db: 'db0', conn: 'rsync2_19222_36260', metas: 1 },
  { version: '3.5.5', vectors: 'pika-vectors-3.5.5', db: 'db1', conn: 'rsync2_19222_36258', metas: 2 },
] as const;

const tmpDirs: string[] = [];
after(async () => {
  for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
});
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'pika-rsync-'));
  tmpDirs.push(d);
  return d;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  }
  return out.sort();
}

const noSleep = { sleeps: [] as number[] };
function opts(extra: Partial<RsyncDownloadOptions> & Pick<RsyncDownloadOptions, 'dir' | 'connect'>): RsyncDownloadOptions {
  return { db: 'db0', sleep: async (ms) => void noSleep.sleeps.push(ms), ...extra };
}

describe('rsync2 client replayed against the captured full syncs of Pika 4.0.1 and 3.5.5', () => {
  for (const { version, vectors, db, conn, metas } of CAPTURES) {
    it(`${version} ${db}: rebuilds the master's dump byte for byte, asking for what Pika's replica asked`, async () => {
      const repl = fileURLToPath(new URL(`${vectors}/decoded/repl/`, shared));
      const dumpDb = fileURLToPath(new URL(`${vectors}/master_dump/20261122/${db}/`, shared));
      const c2s = splitFrames(await readFile(join(repl, `${conn}_c2s.bin`)));
      const server = recordedServer(await readFile(join(repl, `${conn}_s2c.bin`)));
      const transports: ScriptedTransport[] = [];
      const sleeps: number[] = [];
      const dir = await tmp();
      const result = await downloadDump({
        db,
        dir,
        connect: async () => {
          const t = new ScriptedTransport(server.answer);
          transports.push(t);
          return t;
        },
        sleep: async (ms) => void sleeps.push(ms),
      });
      assert.equal(transports.length, 1);
      assert.equal(result.restarts, 0);
      // Same files, same bytes as the master's bgsave directory (3.5.5 never lists streams/: README difference 3).
      const expected = (await listFiles(dumpDb)).filter((f) => !f.startsWith('streams/'));
      assert.deepEqual(await listFiles(result.dumpDir), expected);
      for (const f of expected) {
        assert.deepEqual(await readFile(join(result.dumpDir, f)), await readFile(join(dumpDb, f)), f);
      }
      assert.equal(result.snapshotUuid, md5(await readFile(join(dumpDb, 'info'))));

      // Requests: meta bytes identical to the replica's; the same set of file chunks; each file request
      // byte-identical to the recorded one once its reader_index is set to the recorded one (and, for 3.5.5, whose
      // replica throttles `count` to its bandwidth limit, once count is set to the recorded one: every recorded
      // request started at offset 0 and got the whole file, as ours do).
      const ours = transports[0]!.requests;
      const recordedMeta = c2s.filter((b) => b[1] === RsyncType.kRsyncMeta);
      const ourMeta = ours.filter((r) => r.req.type === RsyncType.kRsyncMeta);
      // A first meta answered kErr while the bgsave ran (4.0.1 db0, 3.5.5 db1): we polled again after a back-off.
      assert.equal(recordedMeta.length, metas);
      assert.equal(sleeps.length, recordedMeta.length - 1);
      assert.equal(ourMeta.length, recordedMeta.length + 1, 'one extra meta at the end re-checks the uuid');
      for (const m of ourMeta) assert.deepEqual(m.bytes, recordedMeta[0]);
      const recordedFiles = new Map(
        c2s
          .filter((b) => b[1] === RsyncType.kRsyncFile)
          .map((b) => {
            const s = b.toString('latin1');
            return [s, b] as const;
          }),
      );
      const ourFiles = ours.filter((r) => r.req.type === RsyncType.kRsyncFile);
      assert.equal(ourFiles.length, recordedFiles.size);
      const matched = new Set<string>();
      const recordedCount = new Map(
        c2s.filter((b) => b[1] === RsyncType.kRsyncFile).map((b) => {
          const r = decodeRsyncRequest(b);
          return [r.file_req!.filename, r.file_req!.count] as const;
        }),
      );
      for (const { req } of ourFiles) {
        assert.ok(req.reader_index >= 0 && req.reader_index <= 3, 'reader_index 0..3');
        assert.equal(req.file_req!.count, 4194304n);
        const count = version === '3.5.5' ? recordedCount.get(req.file_req!.filename) ?? req.file_req!.count : req.file_req!.count;
        const candidates = [0, 1, 2, 3].map((r) =>
          Buffer.from(encodeRsyncRequest({ ...req, reader_index: r, file_req: { ...req.file_req!, count } })).toString('latin1'),
        );
        const hit = candidates.find((c) => recordedFiles.has(c));
        assert.ok(hit, `request for ${req.file_req!.filename}@${req.file_req!.offset} matches a recorded one`);
        matched.add(hit);
      }
      assert.equal(matched.size, recordedFiles.size);
      assert.deepEqual(new Set(ourFiles.map((r) => r.req.reader_index)), new Set([0, 1, 2, 3]), 'four readers share the connection');
      // The downloaded dump is a readable Pika dump: its snapshot events equal those of the master's directory.
      const snapshotOpts = { db, sourceId: 't', source: { host: 'h', port: 9221, replication_id: null }, nowMs: Date.UTC(2026, 10, 23) };
      const events = async (d: string) => {
        const out: unknown[] = [];
        for await (const r of snapshotEvents(d, snapshotOpts)) out.push(r.event);
        return out;
      };
      const fromDownload = await events(result.dumpDir);
      assert.ok(fromDownload.length > 5);
      assert.deepEqual(fromDownload, await events(dumpDb));
      const journal = await loadJournal(join(dir, db));
      assert.equal(journal?.complete, true);
      assert.deepEqual(await completedDownload(dir, db), { snapshotUuid: result.snapshotUuid, dumpDir: result.dumpDir });
    });
  }
});

async function dumpFiles(db: 'db0' | 'db1'): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const f of await listFiles(join(masterDump, db))) out[f] = await readFile(join(masterDump, db, f));
  return out;
}

describe('rsync2 client against an in-memory master', () => {
  it('splits files into chunks of the configured size and reassembles them exactly', async () => {
    const master = new FakeMaster(await dumpFiles('db0'));
    const dir = await tmp();
    let t!: ScriptedTransport;
    const progress: number[] = [];
    const r = await downloadDump(
      opts({
        dir,
        chunkBytes: 65536,
        connect: async () => (t = new ScriptedTransport(master.answer)),
        onProgress: (p) => progress.push(p.bytesDone),
      }),
    );
    for (const [name, data] of master.files) assert.deepEqual(await readFile(join(r.dumpDir, name)), data, name);
    const fileReqs = t.requests.filter((x) => x.req.type === RsyncType.kRsyncFile);
    assert.ok(fileReqs.every((x) => x.req.file_req!.count === 65536n));
    const total = [...master.files.values()].reduce((a, b) => a + b.length, 0);
    assert.ok(fileReqs.length > master.files.size, 'big files took several requests');
    assert.equal(progress.at(-1), total);
    assert.ok(progress.every((v, i) => i === 0 || v >= progress[i - 1]!), 'progress never goes back');
  });

  it('polls meta with growing back-off while the master answers kErr or nothing, then downloads', async () => {
    const master = new FakeMaster(await dumpFiles('db1'), 'db1');
    master.bgsaveReplies = 3;
    master.silentMetaReplies = 2;
    const sleeps: number[] = [];
    const warnings: string[] = [];
    const r = await downloadDump({
      db: 'db1',
      dir: await tmp(),
      requestTimeoutMs: 20,
      metaPollInitialMs: 100,
      metaPollMaxMs: 300,
      connect: async () => new ScriptedTransport(master.answer),
      sleep: async (ms) => void sleeps.push(ms),
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(r.snapshotUuid, master.uuid);
    assert.deepEqual(sleeps, [100, 200, 300, 300, 300]);
    assert.equal(warnings.filter((w) => /no reply/.test(w)).length, 2);
    assert.equal(warnings.filter((w) => /kErr/.test(w)).length, 3);
  });

  it('keeps polling on the real 4.0.1 "not ready" meta replies (bgsave running, no dump yet)', async () => {
    const errors = fileURLToPath(new URL('pika-vectors-errors/raw/', shared));
    // kOk with uuid "" listing only info (case 24), kErr uuid "" during the bgsave (case 31), as sent by Pika 4.0.1.
    const notReady = [
      await readFile(join(errors, '24_dbsync_then_rsync_meta_during_bgsave/003_S_resp.bin')),
      await readFile(join(errors, '31_rsync_meta_before_and_during_bgsave/005_S_resp.bin')),
      await readFile(join(errors, '31_rsync_meta_before_and_during_bgsave/007_S_resp.bin')),
    ];
    // Our meta request for db0 is byte-identical to the probe's.
    const probeMeta = await readFile(join(errors, '31_rsync_meta_before_and_during_bgsave/004_S_req.bin'));
    const master = new FakeMaster(await dumpFiles('db0'));
    let t!: ScriptedTransport;
    const sleeps: number[] = [];
    const r = await downloadDump(
      opts({
        dir: await tmp(),
        sleep: async (ms) => void sleeps.push(ms),
        connect: async () =>
          (t = new ScriptedTransport((req) => (req.type === RsyncType.kRsyncMeta && notReady.length ? [notReady.shift()!] : master.answer(req)))),
      }),
    );
    assert.equal(r.snapshotUuid, master.uuid);
    assert.equal(sleeps.length, 3);
    assert.deepEqual(t.requests[0]!.bytes, probeMeta.subarray(4));
  });

  it('a file the master answers kErr for (missing on its side) fails after the configured attempts', async () => {
    const master = new FakeMaster(await dumpFiles('db1'), 'db1');
    const answer = master.answer;
    const kErrFor = (req: Parameters<typeof answer>[0]) => (req.file_req?.filename === '1/CURRENT' ? answer({ ...req, file_req: { ...req.file_req, filename: 'gone' } }) : answer(req));
    await assert.rejects(
      downloadDump(opts({ db: 'db1', dir: await tmp(), chunkAttempts: 3, connect: async () => new ScriptedTransport(kErrFor) })),
      (e: RsyncError) => e.code === 'PIKA_RSYNC_CHUNK' && /1\/CURRENT@0 failed 3 times; last: kErr/.test(e.message),
    );
  });

  it('gives up with a clear error when no dump appears within the polling budget', async () => {
    const master = new FakeMaster(await dumpFiles('db1'), 'db1');
    master.bgsaveReplies = 1000;
    let clock = 0;
    await assert.rejects(
      downloadDump(
        opts({
          db: 'db1',
          dir: await tmp(),
          metaPollBudgetMs: 10_000,
          now: () => clock,
          sleep: async (ms) => void (clock += ms),
          connect: async () => new ScriptedTransport(master.answer),
        }),
      ),
      (e: RsyncError) => e.code === 'PIKA_RSYNC_NO_DUMP' && /kErr/.test(e.message),
    );
  });

  it('after a crash re-downloads only the files the journal does not list as complete', async () => {
    const master = new FakeMaster(await dumpFiles('db0'));
    const dir = await tmp();
    let served = 0;
    master.beforeFileReply = () => (++served === 12 ? 'crash' : undefined);
    await assert.rejects(
      downloadDump(opts({ dir, readers: 2, maxReconnects: 0, connect: async () => new ScriptedTransport(master.answer) })),
      (e: RsyncError) => e.retriable && /connection closed/.test(e.message),
    );
    const journal = (await loadJournal(join(dir, 'db0')))!;
    const done = Object.keys(journal.files);
    assert.ok(done.length >= 9 && done.length <= 11, `journal lists the completed files (${done.length})`);
    assert.equal(journal.complete, false);

    master.beforeFileReply = () => {};
    let t!: ScriptedTransport;
    const r = await downloadDump(opts({ dir, connect: async () => (t = new ScriptedTransport(master.answer)) }));
    const fetched = t.requests.filter((x) => x.req.type === RsyncType.kRsyncFile).map((x) => x.req.file_req!.filename);
    assert.equal(r.filesResumed, done.length);
    assert.deepEqual(fetched.sort(), [...master.files.keys()].filter((n) => !done.includes(n)).sort());
    for (const [name, data] of master.files) assert.deepEqual(await readFile(join(r.dumpDir, name)), data, name);
  });

  it('reconnects after a lost connection and fetches only the unfinished files', async () => {
    const master = new FakeMaster(await dumpFiles('db0'));
    let served = 0;
    master.beforeFileReply = () => (++served === 7 ? 'crash' : undefined);
    const transports: ScriptedTransport[] = [];
    let refused = 0;
    const warnings: string[] = [];
    const r = await downloadDump(
      opts({
        dir: await tmp(),
        onWarning: (m) => warnings.push(m),
        connect: async () => {
          if (transports.length === 1 && refused++ === 0) throw new Error('ECONNREFUSED');
          const t = new ScriptedTransport(master.answer);
          transports.push(t);
          return t;
        },
      }),
    );
    assert.equal(transports.length, 2);
    assert.equal(warnings.filter((w) => /reconnecting/.test(w)).length, 2, 'one for the drop, one for the refused connect');
    const names = (t: ScriptedTransport) => t.requests.filter((x) => x.req.type === RsyncType.kRsyncFile).map((x) => x.req.file_req!.filename);
    const second = names(transports[1]!);
    assert.ok(second.length < master.files.size, 'completed files were not fetched again');
    assert.deepEqual(new Set([...names(transports[0]!), ...second]), new Set(master.files.keys()));
    for (const [name, data] of master.files) assert.deepEqual(await readFile(join(r.dumpDir, name)), data, name);
  });

  it('stops when aborted', async () => {
    const master = new FakeMaster(await dumpFiles('db0'));
    const ac = new AbortController();
    let served = 0;
    master.beforeFileReply = () => void (++served === 3 && ac.abort());
    await assert.rejects(
      downloadDump(opts({ dir: await tmp(), signal: ac.signal, connect: async () => new ScriptedTransport(master.answer) })),
      (e: RsyncError) => e.code === 'PIKA_RSYNC_ABORTED',
    );
    assert.ok(served < 8);
  });

  it('several DBs share one download directory without touching each other', async () => {
    const dir = await tmp();
    const m0 = new FakeMaster(await dumpFiles('db0'));
    const m1 = new FakeMaster(await dumpFiles('db1'), 'db1');
    const r0 = await downloadDump(opts({ db: 'db0', dir, connect: async () => new ScriptedTransport(m0.answer) }));
    const r1 = await downloadDump(opts({ db: 'db1', dir, connect: async () => new ScriptedTransport(m1.answer) }));
    assert.deepEqual(await completedDownload(dir, 'db0'), { snapshotUuid: m0.uuid, dumpDir: r0.dumpDir });
    assert.deepEqual(await completedDownload(dir, 'db1'), { snapshotUuid: m1.uuid, dumpDir: r1.dumpDir });
    assert.deepEqual(await listFiles(r0.dumpDir), [...m0.files.keys()].sort());
    await assert.rejects(downloadDump(opts({ db: '../db0', dir, connect: async () => assert.fail('must not connect') })), /db name must be db<N>/);
  });

  it('a journal entry whose file is missing or has another size is downloaded again', async () => {
    const master = new FakeMaster(await dumpFiles('db1'), 'db1');
    const dir = await tmp();
    const first = await downloadDump(opts({ db: 'db1', dir, connect: async () => new ScriptedTransport(master.answer) }));
    await rm(join(first.dumpDir, '0/CURRENT'));
    let t!: ScriptedTransport;
    await downloadDump(opts({ db: 'db1', dir, connect: async () => (t = new ScriptedTransport(master.answer)) }));
    const fetched = t.requests.filter((x) => x.req.type === RsyncType.kRsyncFile).map((x) => x.req.file_req!.filename);
    assert.deepEqual(fetched, ['0/CURRENT']);
  });

  it('restarts cleanly when a newer dump replaces the one being downloaded', async () => {
    const master = new FakeMaster(await dumpFiles('db0'));
    const newer = await dumpFiles('db1');
    newer.info = Buffer.from('1s\n192.0.2.2\n9221\n0\n999\n');
    const oldUuid = master.uuid;
    let served = 0;
    master.beforeFileReply = () => {
      if (++served === 5) master.replace(newer);
    };
    const dir = await tmp();
    const warnings: string[] = [];
    const r = await downloadDump(opts({ dir, connect: async () => new ScriptedTransport(master.answer), onWarning: (m) => warnings.push(m) }));
    assert.equal(r.restarts, 1);
    assert.equal(r.snapshotUuid, md5(newer.info));
    assert.notEqual(r.snapshotUuid, oldUuid);
    assert.ok(warnings.some((w) => w.includes(oldUuid) && /restarting/.test(w)));
    assert.deepEqual(await listFiles(r.dumpDir), Object.keys(newer).sort());
    for (const [name, data] of Object.entries(newer)) assert.deepEqual(await readFile(join(r.dumpDir, name)), data, name);
    assert.deepEqual((await readdir(join(dir, 'db0'))).sort(), [`dump-${r.snapshotUuid}`, JOURNAL_FILE], 'the old dump directory is gone');
  });

  it('restarts when a bgsave is running at the final meta check (files may have been rewritten under us)', async () => {
    const master = new FakeMaster(await dumpFiles('db1'), 'db1');
    let served = 0;
    master.beforeFileReply = () => {
      if (++served === master.files.size) master.bgsaveReplies = 2; // the last file's reply, then kErr twice
    };
    const r = await downloadDump(opts({ db: 'db1', dir: await tmp(), connect: async () => new ScriptedTransport(master.answer) }));
    assert.equal(r.restarts, 1);
    assert.equal(r.filesResumed, master.files.size, 'same uuid after the bgsave: the journal keeps every file');
  });

  it('gives up after maxRestarts when the dump keeps changing', async () => {
    const master = new FakeMaster(await dumpFiles('db1'), 'db1');
    let n = 0;
    master.beforeFileReply = () => {
      const files = Object.fromEntries(master.files);
      files.info = Buffer.from(`0s\n192.0.2.2\n9221\n0\n${++n}\n`);
      master.replace(files);
    };
    await assert.rejects(
      downloadDump(opts({ db: 'db1', dir: await tmp(), maxRestarts: 2, connect: async () => new ScriptedTransport(master.answer) })),
      NewerDumpError,
    );
  });

  it('rejects a dump whose info does not hash to snapshot_uuid', async () => {
    const master = new FakeMaster(await dumpFiles('db1'), 'db1');
    master.uuid = '0123456789abcdef0123456789abcdef';
    await assert.rejects(
      downloadDump(opts({ db: 'db1', dir: await tmp(), maxRestarts: 0, connect: async () => new ScriptedTransport(master.answer) })),
      (e: NewerDumpError) => e instanceof NewerDumpError && /md5/.test(e.message),
    );
  });

  for (const bad of ['../../../pika.conf', '/etc/passwd', '0/../../x', '0/./CURRENT', 'a/b/c', '0\\..\\x', '']) {
    it(`refuses the meta file name ${JSON.stringify(bad)} and requests nothing`, async () => {
      const files = await dumpFiles('db1');
      files[bad] = Buffer.from('secret');
      const master = new FakeMaster(files, 'db1');
      let t!: ScriptedTransport;
      const dir = await tmp();
      await assert.rejects(
        downloadDump(opts({ db: 'db1', dir, connect: async () => (t = new ScriptedTransport(master.answer)) })),
        (e: RsyncError) => e.code === 'PIKA_RSYNC_BAD_NAME',
      );
      assert.equal(t.requests.filter((x) => x.req.type === RsyncType.kRsyncFile).length, 0);
      assert.deepEqual(await readdir(join(dir, 'db1')), []);
    });
  }

  it('refuses a meta list without CURRENT/MANIFEST for an instance', async () => {
    const files = await dumpFiles('db1');
    delete files['1/CURRENT'];
    const master = new FakeMaster(files, 'db1');
    await assert.rejects(
      downloadDump(opts({ db: 'db1', dir: await tmp(), connect: async () => new ScriptedTransport(master.answer) })),
      (e: RsyncError) => e.code === 'PIKA_RSYNC_BAD_META' && /instance 1 has no CURRENT/.test(e.message),
    );
  });

  it('never uses a reader_index outside 0..3 (index 4 crashes a real master)', async () => {
    await assert.rejects(downloadDump(opts({ dir: await tmp(), readers: 5, connect: async () => assert.fail('must not connect') })), RangeError);
    await assert.rejects(downloadDump(opts({ dir: await tmp(), chunkBytes: 8 * 1024 * 1024, connect: async () => assert.fail('must not connect') })), RangeError);
  });

  it('a reply that is not an RsyncResponse fails with a clear error (no reconnect loop)', async () => {
    let connects = 0;
    const garbage = () => [Buffer.from([0, 0, 0, 3, 0xff, 0xff, 0xff])];
    await assert.rejects(
      downloadDump(opts({ dir: await tmp(), connect: async () => (connects++, new ScriptedTransport(garbage)) })),
      (e: RsyncError) => e.code === 'PIKA_RSYNC' && /reply from the master is malformed/.test(e.message),
    );
    assert.equal(connects, 1);
  });

  it('fails with a clear error when the master returns more bytes than asked', async () => {
    const master = new FakeMaster(await dumpFiles('db1'), 'db1');
    const answer = master.answer;
    const greedy = (req: Parameters<typeof answer>[0]) => answer({ ...req, file_req: req.file_req && { ...req.file_req, count: req.file_req.count * 2n } });
    await assert.rejects(
      downloadDump(opts({ db: 'db1', dir: await tmp(), chunkBytes: 100, connect: async () => new ScriptedTransport(greedy) })),
      (e: RsyncError) => e.code === 'PIKA_RSYNC_BAD_REPLY' && /more than the 100 asked/.test(e.message),
    );
  });
});

