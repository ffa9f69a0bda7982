// The rsync daemon with Debian's real rsync: a master-style push (Pika's exact client command) lands in the module,
// `info` last; a wrong secret is refused; a taken port, a missing binary and a dying daemon give clear outcomes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, quietLogger } from '../../../../helpers/local-net.ts';
import { parentDeathWrapper } from '../../../../../connector/pika/rsync-daemon/parent-death.ts';
import { daemonPids, daemonsLeftAfter } from './daemon-processes.ts';
import {
  RsyncDaemon, RsyncDaemonError, checkReplicaEndpoint, pbPushModule, legacyPushModule, prepareReceiveDir, renderDaemonFiles, waitForPushedDump,
} from '../../../../../connector/pika/rsync-daemon/index.ts';

const quiet = quietLogger;

/** `rsync -avP --bwlimit --password-file --port <local> rsync_user@host::<module>/<remote>`: what Pika's master runs. */
function push(local: string, remote: string, port: number, passwordFile: string, module = 'document'): Promise<{ code: number; stderr: string }> {
  return new Promise((done) => {
    execFile('rsync', ['-avP', '--bwlimit=102400', `--password-file=${passwordFile}`, `--port=${port}`, local, `rsync_user@127.0.0.1::${module}/${remote}`],
      (error, _stdout, stderr) => done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr }));
  });
}

function fixture(): { root: string; dump: string; secret(value: string): string } {
  const root = mkdtempSync(join(tmpdir(), 'rsyncd-test-'));
  const dump = join(root, 'dump');
  for (const t of ['strings', 'hashes']) {
    mkdirSync(join(dump, t), { recursive: true });
    writeFileSync(join(dump, t, 'CURRENT'), 'MANIFEST-000008\n');
    writeFileSync(join(dump, t, '000007.sst'), Buffer.alloc(300_000, t));
  }
  writeFileSync(join(dump, 'info'), '0s\n127.0.0.1\n9221\n0\n622503\n');
  return {
    root, dump,
    secret(value) {
      const path = join(root, `pw-${value}`);
      writeFileSync(path, value, { mode: 0o600 });
      return path;
    },
  };
}

const md5 = (path: string): string => createHash('md5').update(readFileSync(path)).digest('hex');

test('a push with Pika\'s client command lands in <module>/<db>/, info last; the secrets file is 0600', async () => {
  const f = fixture();
  const port = await freePort();
  const moduleDir = join(f.root, 'module');
  const authFailures: string[] = [];
  const daemon = new RsyncDaemon({
    port, bind: '127.0.0.1', module: pbPushModule(moduleDir, undefined), controlDir: join(f.root, 'control'),
    purpose: 'test push', logger: quiet, onAuthFailure: (l) => authFailures.push(l),
  });
  try {
    await daemon.start();
    assert.equal(statSync(join(f.root, 'control', 'rsyncd.secrets')).mode & 0o777, 0o600);
    assert.match(readFileSync(join(f.root, 'control', 'rsyncd.conf'), 'utf8'), /^\[document\]$/m);
    const db = join(moduleDir, 'db0');
    await prepareReceiveDir(db);
    const waiting = waitForPushedDump(db, { pollMs: 20, failure: () => daemon.failure });
    let arrived = false;
    void waiting.then(() => (arrived = true));
    const secret = f.secret('default'); // no requirepass on the master → "default"
    for (const t of ['strings', 'hashes']) {
      const r = await push(`${join(f.dump, t)}/`, `db0/${t}/`, port, secret);
      assert.equal(r.code, 0, r.stderr);
    }
    await new Promise((ok) => setTimeout(ok, 100));
    assert.equal(arrived, false, 'data files alone do not complete the push');
    assert.equal((await push(join(f.dump, 'info'), 'db0/info', port, secret)).code, 0);
    await waiting;
    for (const rel of ['strings/CURRENT', 'strings/000007.sst', 'hashes/000007.sst', 'info']) {
      assert.equal(md5(join(db, rel)), md5(join(f.dump, rel)), rel);
    }
    assert.deepEqual(authFailures, []);
  } finally {
    await daemon.stop();
    await rm(f.root, { recursive: true, force: true });
  }
});

test('a wrong secret is refused, reported through onAuthFailure, and nothing lands', async () => {
  const f = fixture();
  const port = await freePort();
  const moduleDir = join(f.root, 'module');
  const authFailures: string[] = [];
  const daemon = new RsyncDaemon({
    port, bind: '127.0.0.1', module: pbPushModule(moduleDir, 'masterpass'), controlDir: join(f.root, 'control'),
    purpose: 'test push', logger: quiet, onAuthFailure: (l) => authFailures.push(l),
  });
  try {
    await daemon.start();
    await prepareReceiveDir(join(moduleDir, 'db0'));
    const wrong = await push(join(f.dump, 'info'), 'db0/info', port, f.secret('default'));
    assert.equal(wrong.code, 5);
    assert.match(wrong.stderr, /auth failed on module document/);
    for (let i = 0; i < 200 && authFailures.length === 0; i++) await new Promise((ok) => setTimeout(ok, 50));
    assert.match(authFailures[0] ?? '', /auth failed on module document .*password mismatch/);
    assert.deepEqual(readdirSync(join(moduleDir, 'db0')).sort(), ['hashes', 'lists', 'sets', 'strings', 'zsets']);
    assert.equal((await push(join(f.dump, 'info'), 'db0/info', port, f.secret('masterpass'))).code, 0);
  } finally {
    await daemon.stop();
    await rm(f.root, { recursive: true, force: true });
  }
});

test('the 3.0 module document_<ip>:<port> accepts a push without a login', async () => {
  const f = fixture();
  const port = await freePort();
  const moduleDir = join(f.root, 'module');
  const daemon = new RsyncDaemon({ port, bind: '127.0.0.1', module: legacyPushModule(moduleDir, '192.0.2.2', 9721), controlDir: join(f.root, 'control'), purpose: 'legacy push', logger: quiet });
  try {
    await daemon.start();
    await prepareReceiveDir(moduleDir);
    const r = await new Promise<number>((done) => execFile('rsync', ['-avP', `--port=${port}`, join(f.dump, 'info'), `127.0.0.1::document_192.0.2.2:9721/info`], (e) => done(e ? 1 : 0)));
    assert.equal(r, 0);
    await waitForPushedDump(moduleDir, { pollMs: 20 });
  } finally {
    await daemon.stop();
    await rm(f.root, { recursive: true, force: true });
  }
});

test('a taken port fails start() with PIKA_RSYNCD_BIND naming the port and its purpose', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rsyncd-test-'));
  const blocker = createServer();
  await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', () => ok()));
  const port = (blocker.address() as { port: number }).port;
  const daemon = new RsyncDaemon({ port, bind: '127.0.0.1', module: pbPushModule(join(root, 'm'), undefined), controlDir: join(root, 'c'), purpose: 'Pika 3.1–3.4 full-sync push (pika.replica.port + 1000)', logger: quiet });
  try {
    await assert.rejects(daemon.start(), (e: unknown) => {
      assert.ok(e instanceof RsyncDaemonError);
      assert.equal(e.code, 'PIKA_RSYNCD_BIND');
      assert.match(e.message, new RegExp(`port ${port} \\(Pika 3\\.1–3\\.4 full-sync push \\(pika\\.replica\\.port \\+ 1000\\)`));
      assert.match(e.message, /already in use/);
      return true;
    });
  } finally {
    await daemon.stop();
    await new Promise<void>((ok) => blocker.close(() => ok()));
    await rm(root, { recursive: true, force: true });
  }
});

test('a missing rsync binary fails start() with PIKA_RSYNCD_MISSING and the Debian package to install', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rsyncd-test-'));
  const daemon = new RsyncDaemon({ port: await freePort(), bind: '127.0.0.1', module: pbPushModule(join(root, 'm'), undefined), controlDir: join(root, 'c'), purpose: 'test push', logger: quiet, rsyncPath: join(root, 'no-such-rsync') });
  try {
    await assert.rejects(daemon.start(), (e: unknown) => e instanceof RsyncDaemonError && e.code === 'PIKA_RSYNCD_MISSING' && /apt-get install rsync/.test(e.message));
  } finally {
    await daemon.stop();
    await rm(root, { recursive: true, force: true });
  }
});

test('a daemon that dies is restarted and serves pushes again; stop() ends it', async () => {
  const f = fixture();
  const port = await freePort();
  const moduleDir = join(f.root, 'module');
  const daemon = new RsyncDaemon({ port, bind: '127.0.0.1', module: pbPushModule(moduleDir, undefined), controlDir: join(f.root, 'control'), purpose: 'test push', logger: quiet });
  try {
    await daemon.start();
    const pid = Number(readFileSync(join(f.root, 'control', 'rsyncd.owner.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 200 && daemon.stats.restarts === 0; i++) await new Promise((ok) => setTimeout(ok, 25));
    assert.equal(daemon.stats.restarts, 1);
    await prepareReceiveDir(join(moduleDir, 'db0'));
    let code = -1;
    for (let i = 0; i < 100 && code !== 0; i++) {
      code = (await push(join(f.dump, 'info'), 'db0/info', port, f.secret('default'))).code;
      if (code !== 0) await new Promise((ok) => setTimeout(ok, 50));
    }
    assert.equal(code, 0);
    assert.equal(daemon.failure, undefined);
    await daemon.stop();
    assert.notEqual((await push(join(f.dump, 'info'), 'db0/info', port, f.secret('default'))).code, 0, 'nothing listens after stop()');
  } finally {
    await daemon.stop();
    await rm(f.root, { recursive: true, force: true });
  }
});

test('stop() while start() is under way wins: start() rejects and no daemon is left running', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rsyncd-test-'));
  const controlDir = join(root, 'control');
  const daemon = new RsyncDaemon({ port: await freePort(), bind: '127.0.0.1', module: pbPushModule(join(root, 'm'), undefined), controlDir, purpose: 'test push', logger: quiet });
  try {
    const starting = daemon.start();
    await daemon.stop();
    await assert.rejects(starting, (e: unknown) => e instanceof RsyncDaemonError && /stopped while starting/.test(e.message));
    assert.equal(daemon.running, false);
    assert.deepEqual(await daemonsLeftAfter(controlDir), [], 'no rsync daemon outlives stop()');
  } finally {
    await daemon.stop();
    await rm(root, { recursive: true, force: true });
  }
});

test('the daemon ends with its owner when the owner process is SIGKILLed', async (t) => {
  if (!(await parentDeathWrapper())) {
    t.skip('util-linux setpriv with --pdeathsig is not installed: the next start stops the orphan (pid file) instead');
    return;
  }
  const root = mkdtempSync(join(tmpdir(), 'rsyncd-test-'));
  const controlDir = join(root, 'control');
  const owner = spawn(process.execPath, ['--import', 'tsx', new URL('./daemon-owner-child.ts', import.meta.url).pathname, String(await freePort()), root], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const pid = await new Promise<number>((ok, fail) => {
      let out = '';
      owner.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /^pid (\d+)$/m.exec(out);
        if (m) ok(Number(m[1]));
      });
      owner.once('exit', (code) => fail(new Error(`the owner exited (${code}) before its daemon listened`)));
    });
    // (A connection the daemon forked for the owner's readiness probe may still be ending: same command line.)
    assert.ok((await daemonPids(controlDir)).includes(pid));
    owner.kill('SIGKILL');
    assert.deepEqual(await daemonsLeftAfter(controlDir), [], 'the daemon of a SIGKILLed owner is gone');
  } finally {
    owner.kill('SIGKILL');
    for (const pid of await daemonPids(controlDir)) process.kill(pid, 'SIGKILL');
    await rm(root, { recursive: true, force: true });
  }
});

test('rsyncd.conf: Pika\'s settings, auth lines only with a secret; values that would break the file are refused', () => {
  const withAuth = renderDaemonFiles(pbPushModule('/d/m', 'pw'), '/d/c/secrets', '/d/c/log', false);
  assert.equal(withAuth.secrets, 'rsync_user:pw\n');
  assert.match(withAuth.conf, /^use chroot = no$/m);
  assert.match(withAuth.conf, /^\[document\]\npath = \/d\/m\nread only = no\nauth users = rsync_user\nsecrets file = \/d\/c\/secrets\n$/m);
  assert.doesNotMatch(withAuth.conf, /^uid/m);
  assert.match(renderDaemonFiles(pbPushModule('/d/m', undefined), '/s', '/l', true).conf, /^uid = root\ngid = root$/m);
  assert.equal(renderDaemonFiles(pbPushModule('/d/m', undefined), '/s', '/l', false).secrets, 'rsync_user:default\n');
  const legacy = renderDaemonFiles(legacyPushModule('/d/m', '192.0.2.2', 9721), '/s', '/l', false);
  assert.equal(legacy.secrets, undefined);
  assert.doesNotMatch(legacy.conf, /auth users/);
  assert.match(legacy.conf, /^\[document_192\.0\.2\.2:9721\]$/m);
  assert.throws(() => renderDaemonFiles(pbPushModule('/d/m\n[evil]', 'pw'), '/s', '/l', false), /module path/);
  assert.throws(() => renderDaemonFiles(pbPushModule('/d/m', 'a\nb'), '/s', '/l', false), /one non-empty line/);
});

test('endpoint checks: 0.0.0.0 and a loopback ip towards a remote master are errors; a foreign ip is a NAT warning', async () => {
  const base = { daemonPort: 10222, ipKey: 'pika.replica.ip', portKey: 'pika.replica.port', probe: false };
  const unspecified = await checkReplicaEndpoint({ ...base, replicaIp: '0.0.0.0', masterHost: '10.0.0.1' });
  assert.equal(unspecified[0]?.level, 'error');
  assert.match(unspecified[0]!.message, /pika\.replica\.ip=0\.0\.0\.0 .*0\.0\.0\.0:10222/);
  const loopback = await checkReplicaEndpoint({ ...base, replicaIp: '127.0.0.1', masterHost: '10.0.0.1' });
  assert.equal(loopback[0]?.level, 'error');
  assert.match(loopback[0]!.message, /push the full sync to itself/);
  assert.deepEqual(await checkReplicaEndpoint({ ...base, replicaIp: '127.0.0.1', masterHost: '127.0.0.1' }), []);
  const foreign = await checkReplicaEndpoint({ ...base, replicaIp: '203.0.113.77', masterHost: '10.0.0.1' });
  assert.equal(foreign[0]?.level, 'warning');
  assert.match(foreign[0]!.message, /not an address of this host.*203\.0\.113\.77:10222.*NAT/);
});
