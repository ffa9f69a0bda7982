// `pika-connect diagnose` without Kafka: the bundle's `pika_masters` section (the master's INFO replication).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDiagnose } from '../../../../runtime/cli/diagnose.ts';
import { startPikaMaster } from '../../../pika-master/index.ts';

const PASSWORD = 'Sup3r-Secret-pw';

function connectorFile(dir: string, name: string, props: Record<string, string>): string {
  const file = join(dir, `${name}.properties`);
  writeFileSync(file, Object.entries({ name, 'connector.class': 'PikaSourceConnector', ...props }).map(([k, v]) => `${k}=${v}`).join('\n'));
  return file;
}

/** A closed local port: the bundle's REST step fails at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

test('diagnose puts the master\'s INFO replication into the bundle (AUTH with pika.password) and never the password', async () => {
  const m = await startPikaMaster({ requirepass: PASSWORD });
  const dir = mkdtempSync(join(tmpdir(), 'diagnose-'));
  try {
    const good = connectorFile(dir, 'good', { 'pika.host': '127.0.0.1', 'pika.port': String(m.ports.resp), 'pika.password': PASSWORD });
    const wrong = connectorFile(dir, 'wrong', { 'pika.host': '127.0.0.1', 'pika.port': String(m.ports.resp), 'pika.password': `${PASSWORD}-old` });
    const noAuth = connectorFile(dir, 'noauth', { 'pika.host': '127.0.0.1', 'pika.port': String(m.ports.resp) });
    const gone = connectorFile(dir, 'gone', { 'pika.host': '127.0.0.1', 'pika.port': String(await closedPort()) });
    const other = connectorFile(dir, 'other', { 'topic': 'x' });
    const out = join(dir, 'bundle.json');
    await runDiagnose(undefined, [good, wrong, noAuth, gone, other], { url: `http://127.0.0.1:${await closedPort()}`, out, timeoutMs: 5000 });
    const text = readFileSync(out, 'utf8');
    assert.ok(!text.includes(PASSWORD), 'the password appears nowhere in the bundle');
    const masters = JSON.parse(text).pika_masters as Array<Record<string, unknown>>;
    assert.deepEqual(masters.map((x) => x.connector), ['good', 'wrong', 'noauth', 'gone'], 'files without pika.host are skipped');
    const [ok, refused, unauthenticated, unreachable] = masters;
    assert.equal((ok!.fields as Record<string, string>).role, 'master');
    assert.equal((ok!.fields as Record<string, string>).ReplicationID, m.core.replicationId);
    assert.match(ok!.info_replication as string, /# Replication/);
    assert.equal(ok!.auth, true);
    assert.match(refused!.error as string, /AUTH refused: ERR invalid password/);
    assert.match(unauthenticated!.error as string, /INFO replication refused: NOAUTH/);
    assert.match(unreachable!.error as string, /cannot reach 127\.0\.0\.1:\d+/);
  } finally {
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
