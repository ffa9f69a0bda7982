// The classic failures of the ports a legacy (3.0) master connects back to, each with the port and what it is for:
// the binlog receiver's port taken, the master's binlog sender unable to reach it, and the rsync daemon for its
// full-sync push unable to bind (at the task: the error the operator sees). The master unable to reach that daemon
// is the push timeout (../rsync-daemon/push-receiver.test.ts, integration push-timeout.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectError } from '../../../../../runtime/api/index.ts';
import { LegacySession, type LegacySessionOptions } from '../../../../../connector/pika/legacy/legacy-session.ts';
import { PikaSourceTask } from '../../../../../connector/pika/source/pika-source-task.ts';
import { startPikaMaster, type PikaMaster } from '../../../../pika-master/index.ts';
import { recordingLogger } from '../replication/session-helpers.ts';
import { fakeContext } from '../source/task-helpers.ts';
import { freeReplicaPort } from './legacy-helpers.ts';
import { freePort } from '../../../../helpers/local-net.ts';

async function occupy(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(port, '0.0.0.0', () => ok()));
  return server;
}

async function session(m: PikaMaster, replicaPort: number, overrides: Partial<LegacySessionOptions> = {}): Promise<LegacySession> {
  const s = new LegacySession({
    host: '127.0.0.1', port: m.ports.resp, heartbeatPort: m.ports.repl, replicaIp: '127.0.0.1', replicaPort,
    start: { position: { filenum: 0, offset: 0 }, skipItemAt: false }, logger: recordingLogger(),
    timings: { heartbeatIntervalMs: 50, reconnectMinMs: 20, senderWaitMs: 1500 },
    ...overrides,
  });
  s.start();
  return s;
}

const failure = async (s: LegacySession): Promise<Error> => {
  try {
    for (;;) await s.take(10, 100);
  } catch (error) {
    return error as Error;
  } finally {
    await s.stop();
  }
};

test('the binlog receiver\'s port (replica port + 1000) taken: PIKA_LEGACY_RECEIVER_LISTEN naming the port, its purpose and the keys', async () => {
  const m = await startPikaMaster({ profile: 'legacy-3.0', timeScale: 20 });
  const replicaPort = await freeReplicaPort();
  const taken = await occupy(replicaPort + 1000);
  try {
    const error = await failure(await session(m, replicaPort)) as ConnectError;
    assert.equal(error.code, 'PIKA_LEGACY_RECEIVER_LISTEN');
    assert.match(error.message, new RegExp(`cannot listen on 0\\.0\\.0\\.0:${replicaPort + 1000} for the legacy master's binlog sender \\(replica port \\+ 1000\\): EADDRINUSE; .*pika\\.replica\\.port or legacy\\.binlog\\.receiver\\.port`));
  } finally {
    taken.close();
    await m.stop();
  }
});

test('the master\'s binlog sender cannot reach the receiver: the error names the address it must reach and the keys to set', async () => {
  const m = await startPikaMaster({ profile: 'legacy-3.0', timeScale: 20 });
  const replicaPort = await freeReplicaPort();
  // We listen elsewhere than the reported port + 1000 (as behind a NAT forward that is missing): the sender never arrives.
  const receiverPort = await freePort();
  try {
    const error = await failure(await session(m, replicaPort, { receiverPort }));
    assert.match(error.message, new RegExp(`the master's binlog sender did not connect to 127\\.0\\.0\\.1:${receiverPort} \\(the binlog receiver, replica port \\+ 1000\\) within 1500 ms: that address must be reachable from the master \\(set pika\\.replica\\.ip / pika\\.replica\\.port\\)`));
  } finally {
    await m.stop();
  }
});

test('the rsync daemon for the master\'s full-sync push cannot bind (replica port + 3000 taken): the task fails naming the port, what it is for and why', async () => {
  const m = await startPikaMaster({ profile: 'legacy-3.0', timeScale: 20 });
  const replicaPort = await freeReplicaPort();
  const taken = await occupy(replicaPort + 3000);
  const task = new PikaSourceTask({ legacyTimings: { heartbeatIntervalMs: 50, reconnectMinMs: 20, senderWaitMs: 5000 }, probeTimeoutMs: 500 });
  try {
    await task.start({
      'pika.host': '127.0.0.1', 'pika.port': String(m.ports.resp), 'pika.repl.port': String(m.ports.repl), 'sync.protocol': 'legacy',
      'pika.replica.ip': '127.0.0.1', 'pika.replica.port': String(replicaPort), 'source.id': 'src1', cluster: 'c1',
      // TRYSYNC force: the master answers `wait` and pushes to replica port + 3000.
      'snapshot.mode': 'always', 'snapshot.dir': join(mkdtempSync(join(tmpdir(), 'connect-back-')), 'dumps'),
    }, fakeContext());
    const error = await (async () => { for (;;) await task.poll(); })().then(() => undefined, (e: unknown) => e as ConnectError);
    assert.ok(error);
    assert.equal(error.code, 'PIKA_LEGACY_FULL_SYNC', error.message);
    assert.match(error.message, new RegExp(`legacy full sync failed: cannot bind port ${replicaPort + 3000} \\(Pika 3\\.0 full-sync push to pika\\.replica\\.port \\+ 3000 = 127\\.0\\.0\\.1:${replicaPort + 3000}; rsync daemon on 0\\.0\\.0\\.0:${replicaPort + 3000}, module document_127\\.0\\.0\\.1:${m.ports.resp}\\): the port is already in use`));
  } finally {
    await task.stop();
    taken.close();
    await m.stop();
  }
});
