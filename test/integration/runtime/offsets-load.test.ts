// A restarting task must resume from the offsets it committed last, even while another producer (another task or
// connector of the same worker, or a transaction left undecided on the broker) has a transaction open on the offsets
// topic that began before that last commit. That open transaction holds the last stable offset below the last
// commit: a read_committed read that stops there resumes from older offsets and writes a whole transaction again
// (found as duplicates in the dead-letter crash test); one that waits for it can wait for ever.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KafkaJsClient } from '../../../runtime/kafka/kafkajs-client.ts';
import { loadConnectorOffsets } from '../../../runtime/storage/offset-store.ts';
import { encodeOffsetKey, encodeOffsetValue } from '../../../runtime/storage/offset-codec.ts';
import { bootstrap, createTopic, transactionalProducer, uniqueName } from '../../helpers/kafka.ts';
import { quietLogger } from '../../helpers/local-net.ts';

function offsetMessage(connector: string, stream: number, seq: number) {
  return { key: encodeOffsetKey(connector, { stream }), value: encodeOffsetValue({ seq }) };
}

for (const outcome of ['commits', 'aborts'] as const) {
  test(`offsets committed behind another producer's open transaction are loaded at once; its own offsets once it ${outcome}`, async () => {
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
      await second.send({ topic, messages: [offsetMessage('mine', 1, 20), offsetMessage('mine', 2, 5)] });
      await second.commit();

      const loaded = await loadConnectorOffsets(client, topic, 'mine');
      assert.deepEqual(loaded.offset({ stream: 1 }), { seq: 20 }, 'the newest committed offset, not the one before the open transaction');
      assert.deepEqual(loaded.offset({ stream: 2 }), { seq: 5 });
      assert.equal((await loadConnectorOffsets(client, topic, 'other')).offset({ stream: 7 }), undefined, 'an open transaction is not read');

      await (outcome === 'commits' ? open.commit() : open.abort());
      const others = await loadConnectorOffsets(client, topic, 'other');
      assert.deepEqual(others.offset({ stream: 7 }), outcome === 'commits' ? { seq: 1 } : undefined, 'committed: read; aborted: never');
      assert.deepEqual((await loadConnectorOffsets(client, topic, 'mine')).offset({ stream: 1 }), { seq: 20 });
    } finally {
      await Promise.all([other.disconnect(), mine.disconnect(), client.close()]);
    }
  });
}
