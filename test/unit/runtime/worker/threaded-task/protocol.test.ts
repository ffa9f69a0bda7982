import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectError, RetriableError } from '../../../../../runtime/api/errors.ts';
import { failureAction } from '../../../../../runtime/worker/failure-policy.ts';
import { asMainMessage, asThreadMessage, reviveError, serializeError } from '../../../../../runtime/worker/threaded-task/protocol.ts';

test('a ConnectError from the task thread reaches the failure policy with its message, code, retriable flag and stage', () => {
  const crossed = (e: unknown) => reviveError(structuredClone(serializeError(e)));
  const fatal = crossed(new ConnectError('bad password', { code: 'AUTH', stage: 'start' }));
  assert.ok(fatal instanceof ConnectError);
  assert.equal(fatal.message, 'bad password');
  assert.equal((fatal as ConnectError).code, 'AUTH');
  assert.equal((fatal as ConnectError).stage, 'start');
  assert.equal(failureAction(fatal), 'stay-failed');
  const transient = crossed(new RetriableError('master gone', { code: 'MASTER_DOWN' }));
  assert.equal((transient as ConnectError).retriable, true);
  assert.equal((transient as ConnectError).code, 'MASTER_DOWN');
  assert.equal(transient.name, 'RetriableError');
  assert.equal(failureAction(transient), 'restart');
  assert.match(transient.stack ?? '', /in the task thread/);
});

test('other errors and thrown non-errors stay plain errors (restarted)', () => {
  const plain = reviveError(serializeError(new TypeError('x is undefined')));
  assert.equal(plain instanceof ConnectError, false);
  assert.equal(plain.name, 'TypeError');
  assert.equal(failureAction(plain), 'restart');
  assert.equal(reviveError(serializeError('boom')).message, 'boom');
});

test('messages of unknown shape are refused with what arrived', () => {
  assert.deepEqual(asThreadMessage({ type: 'empty' }), { type: 'empty' });
  assert.deepEqual(asMainMessage({ type: 'committed', seq: 3 }), { type: 'committed', seq: 3 });
  assert.throws(() => asThreadMessage({ type: 'credit' }), /unexpected message from the task thread: \{"type":"credit"\}/);
  assert.throws(() => asMainMessage(42), /unexpected message from the Kafka thread: 42/);
});
