import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectError, RetriableError } from '../../../../runtime/api/errors.ts';
import type { SourceRecord } from '../../../../runtime/api/record.ts';
import type { SourceTask } from '../../../../runtime/api/task.ts';
import { JsonConverter } from '../../../../runtime/converters/json.ts';
import { StringConverter } from '../../../../runtime/converters/string.ts';
import { createRootLogger } from '../../../../runtime/util/logger.ts';
import { failureAction } from '../../../../runtime/worker/failure-policy.ts';
import { TaskSupervisor } from '../../../../runtime/worker/task-supervisor.ts';
import { TopicManager } from '../../../../runtime/worker/topic-manager.ts';
import { RecordingKafka } from '../../../helpers/recording-kafka.ts';

/** Fails in start() with `failure` while it is set; otherwise emits one record per poll. */
class FlakyTask implements SourceTask {
  private seq = 0;
  constructor(private readonly failure: Error | undefined) {}
  async start() { if (this.failure) throw this.failure; }
  async poll(): Promise<SourceRecord[]> {
    await new Promise((r) => setTimeout(r, 5));
    return [{ sourcePartition: { s: 0 }, sourceOffset: { seq: this.seq }, topic: 'out', key: `k${this.seq}`, value: { seq: this.seq++ } }];
  }
  async stop() {}
}

function supervisor(kafka: RecordingKafka, nextFailure: () => Error | undefined, restartBackoffMaxMs: number) {
  const created: FlakyTask[] = [];
  const s = new TaskSupervisor({
    connectorName: 'c1', taskId: 0, taskConfig: {}, transactionalId: 'pc-c1-0', clientId: 'pc', offsetsTopic: 'offsets',
    producerOverrides: {}, transactionBoundary: 'poll', transactionBoundaryIntervalMs: 1000,
    checkpointDir: mkdtempSync(join(tmpdir(), 'pc-sup-')),
  }, {
    client: kafka,
    createTask: () => { const t = new FlakyTask(nextFailure()); created.push(t); return t; },
    createConverters: async () => {
      const value = new JsonConverter();
      value.configure({ 'schemas.enable': 'false' });
      return { key: new StringConverter(), value };
    },
    topics: new TopicManager(() => kafka.admin(), { enabled: true, groups: [] }),
    logger: createRootLogger('error'),
    restartBackoffMaxMs,
  });
  return { s, created };
}

async function waitFor(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), `timed out waiting for ${what}`);
}

test('a non-retriable error leaves the task FAILED with its message, without an automatic restart; a restart brings it back', async () => {
  const kafka = new RecordingKafka();
  let failure: Error | undefined = new ConnectError('the master refused MetaSync: "auth failed" (check pika.password)', { code: 'PIKA_AUTH' });
  // Back-off 0: a restart, if one were made, would follow at once.
  const { s, created } = supervisor(kafka, () => failure, 0);
  s.start();
  await waitFor('FAILED', () => s.status().state === 'FAILED');
  const failed = s.status();
  assert.match(failed.trace ?? '', /ConnectError: the master refused MetaSync: "auth failed" \(check pika\.password\)/);
  assert.equal(failed.restarts, 0, 'no automatic restart is counted');
  await s.stop(); // returns once the supervision loop has ended
  assert.equal(created.length, 1, 'exactly one attempt');

  failure = undefined; // the operator fixed the cause
  await s.restart();
  await waitFor('RUNNING with committed records', () => s.status().state === 'RUNNING' && kafka.committed.some((r) => r.topic === 'out'));
  assert.equal(s.status().trace, undefined, 'the old trace is gone');
  assert.equal(created.length, 2);
  await s.stop();
});

test('a retriable error (or one outside ConnectError, e.g. a socket error) restarts the task with back-off until it runs', async () => {
  for (const error of [new RetriableError('Cannot reach Kafka', { code: 'KAFKA_UNREACHABLE' }), new Error('read ECONNRESET')]) {
    const kafka = new RecordingKafka();
    let failures = 2;
    const { s, created } = supervisor(kafka, () => (failures-- > 0 ? error : undefined), 0);
    s.start();
    await waitFor('RUNNING with committed records', () => s.status().state === 'RUNNING' && kafka.committed.some((r) => r.topic === 'out'));
    assert.equal(created.length, 3, `${error.message}: two failed attempts, then one that runs`);
    assert.equal(s.status().restarts, 2);
    await s.stop();
  }
});

test('failure policy: ConnectError.retriable decides; errors outside the vocabulary are treated as transient', () => {
  assert.equal(failureAction(new ConnectError('bad config', { code: 'CONFIG' })), 'stay-failed');
  assert.equal(failureAction(new ConnectError('gap', { code: 'PIKA_GAP_PURGED', retriable: true })), 'restart');
  assert.equal(failureAction(new RetriableError('down')), 'restart');
  assert.equal(failureAction(new Error('ECONNREFUSED')), 'restart');
  assert.equal(failureAction('a string'), 'restart');
});
