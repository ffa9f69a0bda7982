// A restarting task must resume from the offsets it committed last, even while another producer (another task or
// connector of the same worker, or a crashed incarnation whose transaction is not aborted yet) has a transaction open
// on the offsets topic that began before that last commit. That open transaction holds the last stable offset below
// the last commit; a reader that stops at the last stable offset resumes from older offsets and writes a whole
// transaction again (found as duplicates in the dead-letter crash test).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KafkaJsClient } from '../../../runtime/kafka/kafkajs-client.ts';
import { loadConnectorOffsets } from '../../../runtime/storage/offset-store.ts';
import { encodeOffsetKey, encodeOffsetValue } from '../../../runtime/storage/offset-codec.ts';
import { bootstrap, createTopic, transactionalProducer, uniqueName } from '../../helpers/kafka.ts';
import { quietLogger } from '../../helpers/local-net.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function offsetMessage(connector: string, stream: number, seq: number) {
  return { key: encodeOffsetKey(connector, { stream }), value: encodeOffsetValue({ seq }) };
}

for (const outcome of ['commits', 'aborts'] as const) {
  test(`offsets committed after another producer's transaction began are loaded once that transaction ${outcome}`, async () => {
    const topic = uniqueName('offsets-load');
    await createTopic(topic, 1, { 'cleanup.policy': 'compact' });
    const other = transactionalProducer(uniqueName('offsets-load-other'));
    const mine = transactionalProducer(uniqueName('offsets-load-mine'));
    await Promise.all([other.connect(), mine.connect()]);
    const client = new KafkaJsClient({ brokers: bootstrap().split(','), clientId: 'offsets-load-test', logger: quietLogger });
    try {
      const first = await mine.transaction();
      await first.send({ topic, messages: [offsetMessage('mine', 1, 10)] });
      await first.commit();

      // The other producer's transaction opens, then this connector commits a newer offset behind it.
      const open = await other.transaction();
      await open.send({ topic, messages: [offsetMessage('other', 7, 1)] });
      const second = await mine.transaction();
      await second.send({ topic, messages: [offsetMessage('mine', 1, 20)] });
      await second.commit();

      let decidedAt = 0;
      const decide = sleep(1500).then(async () => {
        decidedAt = Date.now();
        await (outcome === 'commits' ? open.commit() : open.abort());
      });
      const loaded = await loadConnectorOffsets(client, topic, 'mine');
      const loadedAt = Date.now();
      await decide;

      assert.deepEqual(loaded.offset({ stream: 1 }), { seq: 20 }, 'the newest committed offset, not the one before the open transaction');
      assert.ok(decidedAt > 0 && loadedAt >= decidedAt, 'the load waited for the open transaction to be decided');
      const others = await loadConnectorOffsets(client, topic, 'other');
      assert.deepEqual(others.offset({ stream: 7 }), outcome === 'commits' ? { seq: 1 } : undefined, 'an aborted offset is never loaded');
    } finally {
      await Promise.all([other.disconnect(), mine.disconnect(), client.close()]);
    }
  });
}
