import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../../../runtime/rest/router.ts';
import { HIDDEN, isSecretKey, maskConfig } from '../../../../runtime/rest/masking.ts';
import { parseOffsetChanges } from '../../../../runtime/rest/offset-admin.ts';
import { parseListener } from '../../../../runtime/rest/server.ts';

const noop = () => ({ status: 204 });

test('router: path parameters are decoded, methods are told apart, unknown paths are not found', () => {
  const r = new Router()
    .add('GET', '/connectors/{name}/tasks/{task}/status', noop)
    .add('PUT', '/connectors/{name}/config', noop)
    .add('GET', '/connectors/{name}/config', noop);
  const m = r.match('GET', '/connectors/my%20conn%2Fx/tasks/3/status');
  assert.equal(m.kind, 'found');
  assert.deepEqual(m.kind === 'found' && m.params, { name: 'my conn/x', task: '3' });
  const wrong = r.match('DELETE', '/connectors/a/config');
  assert.deepEqual(wrong, { kind: 'method-not-allowed', allowed: ['PUT', 'GET'] });
  assert.equal(r.match('GET', '/connectors/a/tasks').kind, 'not-found');
  assert.equal(r.match('GET', '/connectors/%E0%A4%A/config').kind, 'not-found', 'a malformed escape is not a crash');
});

test('masking: passwords, JAAS configs, tokens and basic.auth.user.info are hidden, the rest is shown', () => {
  const masked = maskConfig({
    'pika.password': 'p1',
    'producer.override.sasl.jaas.config': 'org.apache... password="x";',
    'value.converter.basic.auth.user.info': 'user:pw',
    'ssl.key.password': 'k',
    'pika.host': 'db.example',
    'tasks.max': '1',
  });
  assert.deepEqual(masked, {
    'pika.password': HIDDEN,
    'producer.override.sasl.jaas.config': HIDDEN,
    'value.converter.basic.auth.user.info': HIDDEN,
    'ssl.key.password': HIDDEN,
    'pika.host': 'db.example',
    'tasks.max': '1',
  });
  assert.equal(HIDDEN, '[hidden]');
  assert.equal(isSecretKey('rest.basic.auth.password'), true);
  assert.equal(isSecretKey('synthetic.topic'), false);
});

test('offsets body: Kafka Connect shape accepted, null resets, every problem named', () => {
  assert.deepEqual(parseOffsetChanges({ offsets: [{ partition: { stream: 0 }, offset: { seq: 5 } }, { partition: { stream: 1 }, offset: null }] }), [
    { partition: { stream: 0 }, offset: { seq: 5 } },
    { partition: { stream: 1 }, offset: null },
  ]);
  assert.throws(() => parseOffsetChanges({}), /Partitions \/ offsets need to be provided/);
  assert.throws(() => parseOffsetChanges({ offsets: [] }), /need to be provided/);
  assert.throws(
    () => parseOffsetChanges({ offsets: [{ partition: 'x', offset: { seq: 1 } }, { partition: { s: 1 }, offset: { seq: [1] } }] }),
    (e: Error & { status?: number }) => e.status === 400 && /offsets\[0\]\.partition must be a JSON object/.test(e.message) && /offsets\[1\]\.offset field seq/.test(e.message),
  );
});

test('listeners: http host:port (empty host = all interfaces, IPv6 in brackets); https is refused with the way out', () => {
  assert.deepEqual(parseListener('http://127.0.0.1:8083'), { host: '127.0.0.1', port: 8083 });
  assert.deepEqual(parseListener('http://:0'), { host: '', port: 0 });
  assert.deepEqual(parseListener('http://[::1]:9000'), { host: '::1', port: 9000 });
  assert.throws(() => parseListener('https://0.0.0.0:8443'), /only http listeners are supported; put a TLS proxy/);
});

test('per-connector queue: requests for one connector run in arrival order, a failure does not block the next', async () => {
  const { PerKeyQueue } = await import('../../../../runtime/rest/per-key-queue.ts');
  const queue = new PerKeyQueue();
  const order: string[] = [];
  let releaseStop!: () => void;
  const stop = queue.run('a', async () => {
    await new Promise<void>((r) => { releaseStop = r; });
    order.push('stop');
  });
  const failing = queue.run('a', async () => { order.push('bad'); throw new Error('boom'); });
  const resume = queue.run('a', async () => { order.push('resume'); });
  const other = queue.run('b', async () => { order.push('other connector'); });
  await other;
  assert.deepEqual(order, ['other connector'], 'another connector is not held back');
  releaseStop();
  await stop;
  await assert.rejects(failing, /boom/);
  await resume;
  assert.deepEqual(order, ['other connector', 'stop', 'bad', 'resume']);
});
