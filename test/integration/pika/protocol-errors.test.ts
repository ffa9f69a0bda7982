// The classic misconfigurations between legacy and PB masters fail with errors that name the port and what it is
// for: sync.protocol=legacy against a PB-only master; nothing listening on the master's ports with auto. (What auto
// picks for each test-master profile, and the end-to-end flows per profile, are in e2e-*.test.ts.)
import { test } from 'node:test';
import { startPikaMaster } from '../../pika-master/index.ts';
import { waitLog } from './pika-harness.ts';
import { legacyRun } from './legacy-harness.ts';

test('clear errors: sync.protocol=legacy against a PB-only master; nothing listening on the master\'s ports (auto)', { timeout: 120_000 }, async () => {
  const master = await startPikaMaster({ dbs: 1 });
  const legacyOnPb = (await legacyRun(master, { 'sync.protocol': 'legacy' })).start();
  const closedPorts = (await legacyRun(master, { 'pika.port': 1, 'pika.repl.port': 2 })).start();
  try {
    await waitLog(legacyOnPb, /the master does not support the legacy TRYSYNC protocol .{0,4}ERR unknown command 'trysync'.{0,4}\): it is Pika 3\.1 or newer; use sync\.protocol=pb or auto/);
    await waitLog(closedPorts, /127\.0\.0\.1:2 refuses connections, falling back to legacy TRYSYNC/);
    await waitLog(closedPorts, /cannot connect to the master's RESP port \(legacy AUTH\/TRYSYNC\) 127\.0\.0\.1:1: ECONNREFUSED/);
  } finally {
    for (const w of [legacyOnPb, closedPorts]) if (w.child.exitCode === null) await w.kill('SIGKILL');
    await master.stop();
  }
});
