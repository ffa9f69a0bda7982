// The test master's 'pb-3.4' profile (Pika 3.1–3.4): MetaSync without run_id, no rsync2 port, and DBSync answered by
// pushing the dump with the real `rsync` client to node.ip:node.port+1000 — module `document`, user `rsync_user`,
// the master's requirepass as secret, data directories first and `info` last — into the connector's rsync daemon.
import assert from 'node:assert/strict';
import { readdir, readFile, rm, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startPikaMaster, type PikaMaster } from '../../../pika-master/index.ts';
import { decodeInnerResponse, InnerRequestType } from '../../../pika-master/repl/pb-messages.ts';
import { decodeInnerResponse as clientDecode } from '../../../../connector/pika/protocol/messages.ts';
import { parseMasterInfo } from '../../../../connector/pika/replication/handshake.ts';
import { parseDumpInfo } from '../../../../connector/pika/dump/info-file.ts';
import { RsyncDaemon, pbPushModule, prepareReceiveDir, waitForPushedDump } from '../../../../connector/pika/rsync-daemon/index.ts';
import { rocksDbMissing } from '../../../fixtures/rocksdb-gen/build.ts';
import { RawPbClient } from '../repl/pb-client.ts';
import { collectDump } from './collect-dump.ts';
import { quietLogger } from '../../../helpers/local-net.ts';

type Msg = Record<string, any>;
const request = (obj: Record<string, unknown>): Buffer => Buffer.from(InnerRequestType.encode(InnerRequestType.fromObject(obj)).finish());
const quiet = quietLogger;

/** A port p with p+1000 free too (the daemon's). */
async function replicaPort(): Promise<number> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((ok) => server.close(() => ok()));
    if (port + 1000 > 65535) continue;
    const probe = createServer();
    const free = await new Promise<boolean>((ok) => { probe.once('error', () => ok(false)); probe.listen(port + 1000, '127.0.0.1', () => ok(true)); });
    if (free) {
      await new Promise<void>((ok) => probe.close(() => ok()));
      return port;
    }
  }
}

describe("test master profile 'pb-3.4' (DBSync → rsync push)", { skip: rocksDbMissing() ?? false }, () => {
  const masters: PikaMaster[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups) await c();
    for (const m of masters) {
      await m.stop();
      await rm(m.dir, { recursive: true, force: true });
    }
  });

  it('MetaSync has no run_id (the connector reads it as 3.1–3.4) and no rsync2 port is open', async () => {
    const m = await startPikaMaster({ profile: 'pb-3.4' });
    masters.push(m);
    assert.equal(m.ports.rsync, 0);
    const c = await RawPbClient.connect(m.ports.repl);
    c.sendBody(request({ type: 1, meta_sync: { node: { ip: '127.0.0.1', port: 9300 } } }));
    assert.ok(await c.waitFor(() => c.frames.length >= 1, 5000));
    const reply = decodeInnerResponse(c.frames[0]!) as Msg;
    assert.equal(reply.code, 'kOk');
    assert.equal(reply.meta_sync.run_id, undefined);
    assert.equal(reply.meta_sync.replication_id, undefined);
    const info = parseMasterInfo(clientDecode(c.frames[0]!));
    assert.equal(info.runId, null);
    assert.deepEqual(info.dbs, ['db0']);
    c.close();
  });

  it("pushes the Blackwidow dump with Pika's rsync commands into <module>/db0/, info last, with the master's password", async () => {
    const m = await startPikaMaster({ profile: 'pb-3.4', requirepass: 'sekret', dumpCompression: 'zlib' });
    masters.push(m);
    for (let i = 0; i < 200; i++) m.exec(0, ['SET', `k${i}`, `v${i}`]);
    m.exec(0, ['HSET', 'h', 'f', 'v']);
    m.exec(0, ['RPUSH', 'l', 'a', 'b']);
    m.exec(0, ['SADD', 's', 'x']);
    m.exec(0, ['ZADD', 'z', '1', 'm']);
    const atDump = m.binlogPosition(0);
    const expectedKeys = m.state(0).size;

    const port = await replicaPort();
    const root = await mkdtemp(join(tmpdir(), 'pb34-push-'));
    const daemon = new RsyncDaemon({ port: port + 1000, bind: '127.0.0.1', module: pbPushModule(join(root, 'module'), 'sekret'), controlDir: join(root, 'control'), purpose: 'test', logger: quiet });
    cleanups.push(async () => { await daemon.stop(); await rm(root, { recursive: true, force: true }); });
    await daemon.start();
    const received = join(root, 'module', 'db0');
    await prepareReceiveDir(received);

    const c = await RawPbClient.connect(m.ports.repl);
    const node = { ip: '127.0.0.1', port };
    c.sendBody(request({ type: 1, meta_sync: { node, auth: 'sekret' } }));
    assert.ok(await c.waitFor(() => c.frames.length >= 1, 5000));
    c.sendBody(request({ type: 3, db_sync: { node, slot: { db_name: 'db0', slot_id: 0 }, binlog_offset: { filenum: 0, offset: 0 } } }));
    assert.ok(await c.waitFor(() => c.frames.some((f) => (decodeInnerResponse(f) as Msg).type === 'kDBSync'), 5000));
    m.exec(0, ['SET', 'after', 'dump']); // not in the dump

    await waitForPushedDump(received, { pollMs: 50 });
    await m.rsyncPush!.idle();
    const result = m.rsyncPush!.results[0]!;
    assert.equal(result.ok, true, result.error);
    assert.equal(result.target, `127.0.0.1:${port + 1000}`);
    const remotes = result.commands.map((argv) => argv[argv.length - 1]!);
    assert.equal(remotes[remotes.length - 1], 'rsync_user@127.0.0.1::document/db0/info', 'info goes last');
    // Every child of the dump directory but info, in directory order (the generator's 3.5 layout adds streams/).
    const children = (await readdir(m.fullSync.bgsaves[0]!.path)).filter((c) => c !== 'info');
    assert.deepEqual(remotes.slice(0, children.length).map((r) => r.replace(/.*db0\//, '')), children.map((c) => `${c}/`));
    for (const t of ['strings', 'hashes', 'lists', 'sets', 'zsets']) assert.ok(children.includes(t), t);
    assert.deepEqual(result.commands[0]!.slice(0, 2), ['rsync', '-avP']);
    assert.ok(result.commands[0]!.includes('--bwlimit=1048576'));
    assert.ok(result.commands[0]!.includes(`--port=${port + 1000}`));
    assert.equal(result.commands.filter((argv) => argv.includes('--delete')).length, 5);
    const passwordFile = result.commands[0]!.find((a) => a.startsWith('--password-file='))!.slice('--password-file='.length);
    assert.equal(await readFile(passwordFile, 'utf8'), 'sekret');

    const info = parseDumpInfo(await readFile(join(received, 'info')));
    assert.deepEqual([info.host, info.port, info.filenum, info.offset], ['127.0.0.1', m.ports.resp, atDump.filenum, atDump.offset]);
    const dump = await collectDump(received, Date.now());
    assert.equal(dump.size, expectedKeys);
    assert.ok(!dump.has(Buffer.from('after').toString('hex')));
    c.close();
  });

  it('a push to a daemon with another secret fails and sends no info', async () => {
    const m = await startPikaMaster({ profile: 'pb-3.4', requirepass: 'right' });
    masters.push(m);
    m.exec(0, ['SET', 'a', 'b']);
    const port = await replicaPort();
    const root = await mkdtemp(join(tmpdir(), 'pb34-push-'));
    const daemon = new RsyncDaemon({ port: port + 1000, bind: '127.0.0.1', module: pbPushModule(join(root, 'module'), 'wrong'), controlDir: join(root, 'control'), purpose: 'test', logger: quiet });
    cleanups.push(async () => { await daemon.stop(); await rm(root, { recursive: true, force: true }); });
    await daemon.start();
    await prepareReceiveDir(join(root, 'module', 'db0'));
    const c = await RawPbClient.connect(m.ports.repl);
    const node = { ip: '127.0.0.1', port };
    c.sendBody(request({ type: 1, meta_sync: { node, auth: 'right' } }));
    c.sendBody(request({ type: 3, db_sync: { node, slot: { db_name: 'db0', slot_id: 0 }, binlog_offset: { filenum: 0, offset: 0 } } }));
    for (let i = 0; i < 400 && m.rsyncPush!.results.length === 0; i++) await new Promise((ok) => setTimeout(ok, 50));
    await m.rsyncPush!.idle();
    const result = m.rsyncPush!.results[0]!;
    assert.equal(result.ok, false);
    assert.match(result.error ?? '', /auth failed/);
    assert.ok(!result.commands.some((argv) => argv[argv.length - 1]!.endsWith('/info')), 'no info after a failure');
    // The daemon learns of refused logins by tailing rsync's log file: give the tail time to read the line.
    for (let i = 0; i < 200 && daemon.stats.authFailures === 0; i++) await new Promise((ok) => setTimeout(ok, 50));
    assert.ok(daemon.stats.authFailures >= 1, 'the daemon reports the refused login');
    c.close();
  });
});
