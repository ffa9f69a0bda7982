// The receiving side of a pushed full sync (PbPushReceiver) with Debian's real rsync daemon: a push that never comes
// or stops half-way is given up after snapshot.push.timeout.ms with an error naming the master, the daemon's port
// and module, counted per connector; a push to another module name is reported as such; the 3.0 module is named
// after the master's address as the TRYSYNC connection reached it (a host name in pika.host resolves).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, quietLogger } from '../../../../helpers/local-net.ts';
import { PbPushReceiver, RsyncDaemonError, legacyMasterIp, pushTimeouts } from '../../../../../connector/pika/rsync-daemon/index.ts';
import { trysync } from '../../../../../connector/pika/legacy/trysync-client.ts';
import { daemonPids, daemonsLeftAfter } from './daemon-processes.ts';

const quiet = quietLogger;

async function receiver(options: { legacy?: boolean; pushTimeoutMs: number; connector: string; onPushTimeout?(db: string, e: RsyncDaemonError): void }): Promise<{ r: PbPushReceiver; root: string; port: number }> {
  const root = mkdtempSync(join(tmpdir(), 'push-receiver-test-'));
  const port = await freePort();
  const r = new PbPushReceiver({
    replicaIp: '127.0.0.1', replicaPort: 9300, daemonPort: port, bind: '127.0.0.1', masterHost: '127.0.0.1', masterPort: 9221,
    password: undefined, dir: root, logger: quiet, pollMs: 20, ...options,
  });
  return { r, root, port };
}

function rsyncPush(local: string, target: string): Promise<number> {
  return new Promise((done) => execFile('rsync', ['-a', local, target], { env: { ...process.env, RSYNC_PASSWORD: 'default' } }, (error) => done(error ? 1 : 0)));
}

test('a push that never comes is given up after snapshot.push.timeout.ms: PIKA_RSYNCD_PUSH_TIMEOUT naming master, port and module; counted', async () => {
  const seen: string[] = [];
  const { r, port } = await receiver({ pushTimeoutMs: 400, connector: 'never-comes', onPushTimeout: (db) => seen.push(db) });
  try {
    await r.prepare('db0', true);
    const error = await r.receive('db0', new AbortController().signal).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof RsyncDaemonError, String(error));
    assert.equal(error.code, 'PIKA_RSYNCD_PUSH_TIMEOUT');
    assert.equal(error.retriable, true, 'the restarted task asks the master again');
    assert.match(error.message, /the master 127\.0\.0\.1:9221/);
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port} \\(pika\\.replica\\.port \\+ 1000\\), module 'document'`));
    assert.match(error.message, /no progress for 400 ms \(snapshot\.push\.timeout\.ms/);
    assert.match(error.message, /nothing was pushed/);
    assert.deepEqual(seen, ['db0']);
    assert.equal(pushTimeouts('never-comes').count, 1);
    const status = r.status();
    assert.equal(status.timeouts, 1);
    assert.equal((status.last_timeout as { db: string }).db, 'db0');
    assert.equal(status.module, 'document');
  } finally {
    await r.stop();
  }
});

test('a push that stops half-way is given up too, and says so (files and bytes so far)', async () => {
  const { r, root, port } = await receiver({ pushTimeoutMs: 600, connector: 'half-way' });
  try {
    await r.prepare('db0', true);
    const dump = join(root, 'dump');
    mkdirSync(join(dump, 'strings'), { recursive: true });
    writeFileSync(join(dump, 'strings', '000007.sst'), Buffer.alloc(50_000, 1));
    const waiting = r.receive('db0', new AbortController().signal).then(() => undefined, (e: unknown) => e);
    // The master's first file arrives, then nothing more (no `info`).
    assert.equal(await rsyncPush(join(dump, 'strings') + '/', `rsync://rsync_user@127.0.0.1:${port}/document/db0/strings/`), 0);
    const error = await waiting;
    assert.ok(error instanceof RsyncDaemonError, String(error));
    assert.equal(error.code, 'PIKA_RSYNCD_PUSH_TIMEOUT');
    assert.match(error.message, /stopped half-way \(1 files, 50000 bytes, 1 rsync transfers so far\)/);
  } finally {
    await r.stop();
  }
});

test('a push to another module name fails the wait with PIKA_RSYNCD_MODULE naming both names', async () => {
  const { r, root, port } = await receiver({ legacy: true, pushTimeoutMs: 0, connector: 'module' });
  try {
    await r.useLegacyMasterIp('127.0.0.1');
    await r.prepare('db0', true);
    assert.equal(r.moduleName, 'document_127.0.0.1:9221');
    const waiting = r.receive('db0', new AbortController().signal).then(() => undefined, (e: unknown) => e);
    const file = join(root, 'info');
    writeFileSync(file, '0s\n10.0.0.9\n9221\n0\n0\n');
    assert.notEqual(await rsyncPush(file, `rsync://127.0.0.1:${port}/document_10.0.0.9:9221/info`), 0, 'the daemon refuses the unknown module');
    const error = await waiting;
    assert.ok(error instanceof RsyncDaemonError, String(error));
    assert.equal(error.code, 'PIKA_RSYNCD_MODULE');
    assert.equal(error.retriable, false, 'the same name would be refused again: pika.host needs a fix');
    assert.match(error.message, /module 'document_10\.0\.0\.9:9221' but the daemon on port \d+ serves 'document_127\.0\.0\.1:9221'/);
  } finally {
    await r.stop();
  }
});

test('stop() is final: a daemon restarted under a new 3.0 module name while the receiver stops is not left running', async () => {
  const { r, root } = await receiver({ legacy: true, pushTimeoutMs: 0, connector: 'stop-race' });
  const controlDir = join(root, 'rsync-push', 'control');
  try {
    await r.useLegacyMasterIp('127.0.0.1');
    await r.startNow();
    assert.ok((await daemonPids(controlDir)).length > 0, 'the daemon runs');
    // The legacy task's `wait` handling: a new module name, then prepare — racing the task's stop.
    const restarting = r.useLegacyMasterIp('127.0.0.2').then(() => r.prepare('db0', true));
    await r.stop();
    await assert.rejects(restarting, (e: unknown) => e instanceof RsyncDaemonError && /was stopped/.test(e.message));
    assert.deepEqual(await daemonsLeftAfter(controlDir), [], 'no rsync daemon outlives stop()');
    await assert.rejects(r.prepare('db0', true), /was stopped/);
    assert.equal(r.status().daemon_running, false);
  } finally {
    await r.stop();
  }
});

test('3.0 module name: the master\'s address as reached (IPv4-mapped written as IPv4), else the configured host', () => {
  assert.equal(legacyMasterIp('::ffff:192.0.2.2', 'pika-master.example'), '192.0.2.2');
  assert.equal(legacyMasterIp('10.1.2.3', 'pika-master.example'), '10.1.2.3');
  assert.equal(legacyMasterIp(undefined, 'pika-master.example'), 'pika-master.example');
});

test('3.0 module name with pika.host given as a host name: TRYSYNC reaches the master at 127.0.0.1 and the daemon serves document_127.0.0.1:<port> before TRYSYNC is sent', async () => {
  // A master that answers `wait` (as 3.0.16 does to a forced TRYSYNC).
  const requests: string[] = [];
  const server: Server = createServer((socket) => socket.on('data', (chunk) => {
    requests.push(chunk.toString('latin1'));
    socket.end('$4\r\nwait\r\n');
  }));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const masterPort = (server.address() as { port: number }).port;
  const root = mkdtempSync(join(tmpdir(), 'push-receiver-test-'));
  const r = new PbPushReceiver({
    legacy: true, replicaIp: '127.0.0.1', replicaPort: 9300, daemonPort: await freePort(), bind: '127.0.0.1',
    masterHost: 'localhost', masterPort, password: undefined, dir: root, logger: quiet,
  });
  let moduleAtSend: string | undefined;
  try {
    assert.equal(r.moduleName, `document_localhost:${masterPort}`, 'before any connection: the configured host');
    const result = await trysync({
      host: 'localhost', port: masterPort, replicaIp: '127.0.0.1', replicaPort: 9300, start: 'force', timeoutMs: 5000,
      beforeSend: async (address) => {
        await r.useLegacyMasterIp(legacyMasterIp(address, 'localhost'));
        await r.startNow();
        moduleAtSend = r.moduleName;
        assert.equal(requests.length, 0, 'TRYSYNC is written only after the daemon is up');
      },
    });
    assert.deepEqual(result.outcome, { kind: 'wait' });
    assert.equal(moduleAtSend, `document_127.0.0.1:${masterPort}`);
    assert.equal(r.status().daemon_running, true);
    assert.match(requests[0]!, /trysync\r\n\$9\r\n127\.0\.0\.1\r\n\$4\r\n9300\r\n\$10\r\n4294967295\r\n/);
  } finally {
    await r.stop();
    server.close();
  }
});
