import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LegacySession, type LegacyQueuedItem, type LegacySessionOptions } from '../../../../../connector/pika/legacy/legacy-session.ts';
import { startPikaMaster, type PikaMaster } from '../../../../pika-master/index.ts';
import { recordingLogger, sleep, waitFor } from '../replication/session-helpers.ts';
import { freeReplicaPort } from './legacy-helpers.ts';

const SCALE = 20;

async function session(m: PikaMaster, overrides: Partial<LegacySessionOptions> = {}): Promise<LegacySession> {
  const s = new LegacySession({
    host: '127.0.0.1', port: m.ports.resp, heartbeatPort: m.ports.repl, replicaIp: '127.0.0.1', replicaPort: await freeReplicaPort(),
    start: { position: { filenum: 0, offset: 0 }, skipItemAt: false }, logger: recordingLogger(),
    timings: { heartbeatIntervalMs: 50, reconnectMinMs: 20, alreadyExistRetryMs: 50, senderWaitMs: 5000 },
    ...overrides,
  });
  s.start();
  return s;
}

async function takeN(s: LegacySession, n: number): Promise<LegacyQueuedItem[]> {
  const out: LegacyQueuedItem[] = [];
  const deadline = Date.now() + 20_000;
  while (out.length < n) {
    assert.ok(Date.now() < deadline, `timed out: ${out.length} of ${n} items`);
    out.push(...await s.take(100, 100));
  }
  return out;
}

const names = (items: LegacyQueuedItem[]): string[] => items.map((i) => i.item.argv.map((a) => a.toString()).join(' '));

for (const profile of ['legacy-3.0', 'legacy-2.x'] as const) {
  test(`${profile}: TRYSYNC, heartbeat and the sender's stream deliver every item in order; a new session resumes after the last one without repeating it`, async () => {
    const m = await startPikaMaster({ profile, timeScale: SCALE, serverId: 7 });
    try {
      m.exec(0, ['SET', 'a', '1']);
      m.exec(0, ['HSET', 'h', 'f', 'v']);
      const s = await session(m);
      let items = await takeN(s, 2);
      assert.deepEqual(names(items), ['SET a 1', 'HSET h f v']);
      assert.equal(s.profile, profile);
      assert.equal(items[0]!.item.serverId, 7);
      assert.deepEqual(items[0]!.item.start, { filenum: 0, offset: 0 });
      if (profile === 'legacy-3.0') assert.deepEqual(items[1]!.end, { filenum: m.binlogPosition(0).filenum, offset: m.binlogPosition(0).offset }, '3.0: item end = the master\'s binlog end');
      m.exec(0, ['SADD', 's', 'x']);
      items = await takeN(s, 1);
      assert.deepEqual(names(items), ['SADD s x']);
      const resume = s.resumePoint;
      assert.notEqual(resume, 'force');
      await waitFor(() => m.legacy!.slaves.size === 1 && [...m.legacy!.slaves.values()][0]!.heartbeat !== undefined, 'heartbeat registered');
      await s.stop();
      await waitFor(() => m.legacy!.slaves.size === 0, 'the master drops the slave when the heartbeat closes');
      m.exec(0, ['LPUSH', 'l', 'e']);
      const again = await session(m, { start: resume });
      items = await takeN(again, 1);
      assert.deepEqual(names(items), ['LPUSH l e']);
      await sleep(200);
      assert.equal((await again.take(10, 50)).length, 0, 'nothing repeated');
      assert.equal(again.stats.itemsSkipped, 1, 'the item at the resume point came again and was dropped');
      await again.stop();
    } finally {
      await m.stop();
    }
  });
}

test('a cut connection: the session TRYSYNCs again from its last item and loses nothing', async () => {
  const m = await startPikaMaster({ profile: 'legacy-3.0', timeScale: SCALE });
  try {
    const s = await session(m);
    for (let i = 0; i < 50; i++) m.exec(0, ['SET', `k${i}`, String(i)]);
    const first = await takeN(s, 50);
    m.faults.cutConnections();
    for (let i = 50; i < 100; i++) m.exec(0, ['SET', `k${i}`, String(i)]);
    const rest = await takeN(s, 50);
    assert.deepEqual([...first, ...rest].map((i) => i.item.argv[2]!.toString()), Array.from({ length: 100 }, (_, i) => String(i)));
    assert.ok(s.stats.trysyncs >= 2);
    await s.stop();
  } finally {
    await m.stop();
  }
});

test('clear errors: a PB-only master, an unreachable RESP port, an unreachable heartbeat port, InvalidOffset, wait', async () => {
  const pb = await startPikaMaster({ profile: '4.0' });
  const legacy = await startPikaMaster({ profile: 'legacy-3.0', timeScale: SCALE });
  try {
    const fails = async (s: LegacySession, re: RegExp): Promise<void> => {
      await assert.rejects(async () => { for (;;) await s.take(10, 100); }, re);
      await s.stop();
    };
    await fails(await session(pb), /does not support the legacy TRYSYNC protocol .*unknown command 'trysync'.*Pika 3\.1 or newer/);
    await fails(await session(pb, { port: 1 }), /cannot connect to the master's RESP port \(legacy AUTH\/TRYSYNC\) 127\.0\.0\.1:1: ECONNREFUSED/);
    await fails(await session(legacy, { heartbeatPort: 1 }), /heartbeat port \(legacy spci\/ping, master port \+ 2000\) 127\.0\.0\.1:1: ECONNREFUSED/);
    await fails(await session(legacy, { start: { position: { filenum: 3, offset: 0 }, skipItemAt: false } }), /beyond its binlog .*InvalidOffset/);
    await fails(await session(legacy, { start: 'force' }), /with "wait": it needs a full sync/);
  } finally {
    await pb.stop();
    await legacy.stop();
  }
});
