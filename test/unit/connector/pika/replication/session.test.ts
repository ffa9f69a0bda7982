// The replication session against the in-process test master (test/pika-master), timers scaled by SCALE on both
// sides. No timing assertions: every wait is for a condition, with a generous bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPikaMaster, type PikaMaster } from '../../../../pika-master/index.ts';
import { Consumer, newSession, SCALE, sleep, waitFor } from './session-helpers.ts';

async function withMaster(options: Parameters<typeof startPikaMaster>[0], body: (m: PikaMaster) => Promise<void>): Promise<void> {
  const m = await startPikaMaster({ timeScale: SCALE, ...options });
  try {
    await body(m);
  } finally {
    await m.stop();
  }
}

test('handshake on one connection for two DBs: items of each DB arrive in binlog order, routed by DB', async () => {
  await withMaster({ dbs: 2 }, async (m) => {
    m.exec(0, ['SET', 'a', '1']);
    m.exec(1, ['HSET', 'h', 'f', 'v']);
    const s = newSession(m.ports.repl);
    s.start();
    await s.ready();
    m.exec(0, ['SET', 'b', '2']);
    m.exec(1, ['LPUSH', 'l', 'x']);
    m.exec(0, ['DEL', 'a']);
    const c = new Consumer(s);
    await c.until(5);
    assert.deepEqual(c.commands('db0'), ['SET a 1', 'SET b 2', 'DEL a']);
    assert.deepEqual(c.commands('db1'), ['HSET h f v', 'LPUSH l x']);
    assert.equal(s.stats.connects, 1, 'one connection for both DBs');
    const lastDb0 = c.items.filter((i) => i.db === 'db0').at(-1)!;
    const master = m.binlogPosition(0);
    assert.deepEqual({ filenum: lastDb0.end.filenum, offset: lastDb0.end.offset }, { filenum: master.filenum, offset: master.offset }, 'item end = master producer position');
    await s.stop();
  });
});

test('start at the master\'s current position (a new replica): earlier writes are not delivered, later ones are', async () => {
  await withMaster({}, async (m) => {
    m.exec(0, ['SET', 'old', '1']);
    const s = newSession(m.ports.repl, { start: () => 'current' });
    s.start();
    await s.ready();
    m.exec(0, ['SET', 'new', '2']);
    const c = new Consumer(s);
    await c.until(1);
    await sleep(100);
    await c.takeSome();
    assert.deepEqual(c.commands(), ['SET new 2']);
    assert.ok(s.log.some((l) => /current binlog position/.test(l.msg)), 'the start position is logged');
    await s.stop();
  });
});

test('a quiet master is not dead: keepalives are answered, no reconnect, the master keeps the slave node', async () => {
  await withMaster({}, async (m) => {
    const s = newSession(m.ports.repl);
    s.start();
    await s.ready();
    // 3 s at scale 10 = 30 s of Pika time: beyond both 20 s timeouts (master drop, slave silence).
    await sleep(3000);
    assert.ok(s.stats.keepalivesReceived >= 3, `keepalives received: ${s.stats.keepalivesReceived}`);
    assert.equal(s.stats.connects, 1, 'no reconnect on an idle but alive master');
    assert.equal([...m.repl.dbs[0]!.nodes.values()][0]?.state, 'BinlogSync', 'the master did not drop the slave node');
    m.exec(0, ['SET', 'k', 'v']);
    const c = new Consumer(s);
    await c.until(1);
    assert.deepEqual(c.commands(), ['SET k v']);
    await s.stop();
  });
});

test('acks follow commits: without acks the master stops at its sync window; acking the committed prefix lets it continue without closing the connection', async () => {
  await withMaster({ syncWindowSize: 50 }, async (m) => {
    const s = newSession(m.ports.repl);
    s.start();
    await s.ready();
    for (let i = 0; i < 400; i++) m.exec(0, ['SET', `k${i}`, String(i)]);
    const c = new Consumer(s);
    await waitFor(() => s.stats.itemsReceived >= 50, 'the first window');
    await sleep(500); // the master would push more now if it were not bound by the window
    while ((await c.takeSome(false)).length > 0);
    assert.equal(c.items.length, 50, 'nothing beyond the window before anything is committed');
    c.commitPending();
    await c.until(400);
    assert.deepEqual(c.commands(), Array.from({ length: 400 }, (_, i) => `SET k${i} ${i}`));
    assert.equal(s.stats.connects, 1, 'the master never closed the connection (every ack range was in its window)');
    await s.stop();
  });
});

test('a cut connection is resumed after the last received item: every item once, in order', async () => {
  await withMaster({}, async (m) => {
    const s = newSession(m.ports.repl);
    s.start();
    await s.ready();
    const c = new Consumer(s);
    for (let i = 0; i < 100; i++) m.exec(0, ['SET', `a${i}`, 'x']);
    await c.until(100);
    m.faults.cutConnections();
    for (let i = 0; i < 100; i++) m.exec(0, ['SET', `b${i}`, 'y']);
    await c.until(200);
    await sleep(200);
    await c.takeSome(); // anything delivered twice would show up now
    assert.ok(s.stats.connects >= 2, 'reconnected');
    assert.deepEqual(c.commands(), [...Array.from({ length: 100 }, (_, i) => `SET a${i} x`), ...Array.from({ length: 100 }, (_, i) => `SET b${i} y`)]);
    assert.ok(s.log.some((l) => l.level === 'warn' && /connection lost/.test(l.msg)), 'the reconnect is logged');
    await s.stop();
  });
});

test('a silent (stalled) master is left after the silence timeout; with a fixed identity MetaSync is retried while the master answers "Slave AlreadyExist"', async () => {
  await withMaster({}, async (m) => {
    const s = newSession(m.ports.repl, { identity: { ip: '10.1.2.3', port: 9999 } });
    s.start();
    await s.ready();
    const c = new Consumer(s);
    m.exec(0, ['SET', 'before', '1']);
    await c.until(1);
    m.faults.stall(true); // the old connection neither reads nor sends: the master will not notice its close
    await waitFor(() => s.stats.alreadyExistRetries >= 1, 'a MetaSync answered with Slave AlreadyExist');
    assert.ok(s.log.some((l) => /nothing received from the master/.test(String(l.fields?.reason))), 'silence is the logged reason');
    m.faults.stall(false); // now the master sees the old connection's close and forgets it
    await waitFor(() => s.isStreaming, 'streaming again');
    m.exec(0, ['SET', 'after', '2']);
    await c.until(2);
    assert.deepEqual(c.commands(), ['SET before 1', 'SET after 2']);
    await s.stop();
  });
});

test('TrySync kSyncPointLarger: a typed gap, reported once, no retry loop', async () => {
  await withMaster({}, async (m) => {
    m.exec(0, ['SET', 'k', 'v']);
    const s = newSession(m.ports.repl, { start: () => ({ filenum: 7, offset: 0 }) });
    s.start();
    await assert.rejects(s.take(10, 5000), (e: Error & { kind?: string }) => e.name === 'ReplicationGapError' && e.kind === 'larger' && /kSyncPointLarger/.test(e.message));
    await assert.rejects(s.take(10, 10), /kSyncPointLarger/, 'the failure stays');
    assert.equal(s.stats.connects, 1, 'no reconnect loop');
    await s.stop();
  });
});

test('TrySync kSyncPointBePurged (binlog file purged): a typed gap', async () => {
  await withMaster({ binlogFileSize: 1024 }, async (m) => {
    for (let i = 0; i < 60; i++) m.exec(0, ['SET', `key${i}`, 'v'.repeat(40)]);
    assert.ok(m.binlogPosition(0).filenum >= 2, 'several binlog files');
    m.faults.purgeBinlogs(0, 0);
    const s = newSession(m.ports.repl, { start: () => ({ filenum: 0, offset: 0 }) });
    s.start();
    await assert.rejects(s.take(10, 5000), (e: Error & { kind?: string }) => e.kind === 'purged');
    assert.equal(s.stats.connects, 1);
    await s.stop();
  });
});

test('TrySync kError (offset inside an item): a typed gap "not-boundary"', async () => {
  await withMaster({}, async (m) => {
    m.exec(0, ['SET', 'k', 'v']);
    const s = newSession(m.ports.repl, { start: () => ({ filenum: 0, offset: 5 }) });
    s.start();
    await assert.rejects(s.take(10, 5000), (e: Error & { kind?: string }) => e.kind === 'not-boundary');
    assert.equal(s.stats.connects, 1);
    await s.stop();
  });
});

test('a changed replication id on reconnect is a gap, never a silent resume', async () => {
  await withMaster({}, async (m) => {
    const s = newSession(m.ports.repl);
    s.start();
    await s.ready();
    await m.restart({ newReplicationId: true });
    await assert.rejects(s.take(10, 20_000), (e: Error & { kind?: string }) => e.kind === 'replication-id-changed' && /replication id changed/.test(e.message));
    await s.stop();
  });
});

test('password: wrong auth is a clear refusal; the right one streams', async () => {
  await withMaster({ requirepass: 'pw-A' }, async (m) => {
    const bad = newSession(m.ports.repl, { password: 'nope' });
    bad.start();
    await assert.rejects(bad.take(10, 5000), (e: Error & { code?: string }) => e.code === 'PIKA_AUTH' && /pika\.password/.test(e.message));
    await bad.stop();
    const good = newSession(m.ports.repl, { password: 'pw-A' });
    good.start();
    await good.ready();
    await good.stop();
  });
});

test('a DB the master does not have is refused before any request names it (such requests crash a real master)', async () => {
  await withMaster({ dbs: 1 }, async (m) => {
    const s = newSession(m.ports.repl, { dbs: ['db0', 'db3'] });
    s.start();
    await assert.rejects(s.take(10, 5000), (e: Error & { code?: string }) => e.code === 'PIKA_UNKNOWN_DB' && /db3/.test(e.message));
    await s.stop();
    assert.equal(m.repl.crashesAvoided, 0);
  });
});

test('a corrupt frame from the master stops the session with a protocol error (never skipped)', async () => {
  await withMaster({}, async (m) => {
    const s = newSession(m.ports.repl);
    s.start();
    await s.ready();
    m.faults.corruptNextFrame();
    m.exec(0, ['SET', 'k', 'v']);
    await assert.rejects(s.take(10, 5000).then(() => s.take(10, 5000)).then(() => s.take(10, 5000)), (e: Error) => e.name === 'PikaProtocolError');
    await s.stop();
  });
});

test('graceful stop sends RemoveSlaveNode for every DB before closing', async () => {
  await withMaster({ dbs: 2 }, async (m) => {
    const removed: string[] = [];
    const repl = m.repl as unknown as { handleRemoveSlaveNode(conn: unknown, request: { remove_slave_node: Array<{ slot: { db_name: string } }> }): void };
    const original = repl.handleRemoveSlaveNode.bind(repl);
    repl.handleRemoveSlaveNode = (conn, request) => {
      removed.push(request.remove_slave_node[0]!.slot.db_name);
      original(conn, request);
    };
    const s = newSession(m.ports.repl);
    s.start();
    await s.ready();
    await s.stop();
    assert.deepEqual(removed.sort(), ['db0', 'db1']);
    assert.equal(m.repl.dbs[0]!.nodes.size + m.repl.dbs[1]!.nodes.size, 0);
  });
});

test('a restarted master (same replication id) is reconnected to and every DB resumes after its last item', async () => {
  await withMaster({ dbs: 2 }, async (m) => {
    const s = newSession(m.ports.repl);
    s.start();
    await s.ready();
    const c = new Consumer(s);
    m.exec(0, ['SET', 'a', '1']);
    m.exec(1, ['SET', 'b', '1']);
    await c.until(2);
    await m.restart();
    m.exec(0, ['SET', 'a', '2']);
    m.exec(1, ['SET', 'b', '2']);
    await c.until(4);
    await sleep(200);
    await c.takeSome();
    assert.deepEqual(c.commands('db0'), ['SET a 1', 'SET a 2']);
    assert.deepEqual(c.commands('db1'), ['SET b 1', 'SET b 2']);
    assert.ok(s.stats.connects >= 2);
    await s.stop();
  });
});

test('a master waiting for our acks may be silent: a slow sink (no commit for longer than the silence timeout) causes no reconnect', async () => {
  await withMaster({ syncWindowSize: 50 }, async (m) => {
    const s = newSession(m.ports.repl);
    s.start();
    await s.ready();
    for (let i = 0; i < 100; i++) m.exec(0, ['SET', `k${i}`, String(i)]);
    const c = new Consumer(s);
    await waitFor(() => s.stats.itemsReceived >= 50, 'the first window');
    await c.takeSome(false);
    await sleep(3000); // 30 s of Pika time: no item, no keepalive (the master waits for acks), our pings keep the node
    assert.equal(s.stats.connects, 1, 'no reconnect while we owe acks');
    c.commitPending();
    await c.until(100);
    assert.equal(s.stats.connects, 1);
    await s.stop();
  });
});

test('stop() right after start() (handshake not done) ends the session without leaving a slave behind', async () => {
  await withMaster({}, async (m) => {
    const s = newSession(m.ports.repl);
    s.start();
    await s.stop();
    await sleep(100);
    assert.equal(m.repl.dbs[0]!.nodes.size, 0);
    assert.equal(s.isStreaming, false);
  });
});
