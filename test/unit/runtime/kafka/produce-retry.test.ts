import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

// kafkajs's produce path with its retries, as patched by patches/kafkajs+2.2.4.patch: when a broker dies mid-send,
// a retry must send exactly the partitions not yet acknowledged — none twice (a resend under new sequence numbers is
// kept by the broker as new data: duplicates inside a committed transaction) and none left out (records silently
// missing from a committed transaction). The chaos suite's broker-kill class found both with stock kafkajs 2.2.4.
const require = createRequire(import.meta.url);
type SendMessages = (options: Record<string, unknown>) => (request: Record<string, unknown>) => Promise<Array<{ topicName: string; partition: number }>>;
const createSendMessages = require('kafkajs/src/producer/sendMessages.js') as SendMessages;
const { KafkaJSConnectionClosedError } = require('kafkajs/src/errors.js') as { KafkaJSConnectionClosedError: new (message: string, details: object) => Error };

const TOPIC = 'pika.t.binlog';

interface ProduceCall { nodeId: number; partitions: number[] }
interface Behaviour {
  /** leader per partition, one map per metadata generation (a refresh moves to the next) */
  leaders: Array<Record<number, number>>;
  /** produce calls (0-based, over the whole test) that fail with a closed connection */
  failingCalls: Set<number>;
  /** ms before broker `nodeId` answers */
  delayMs?: Record<number, number>;
}

function harness(behaviour: Behaviour) {
  const calls: ProduceCall[] = [];
  const accepted = new Map<number, number>();
  let generation = 0;
  const brokers = new Map<number, object>();
  const leaders = () => behaviour.leaders[Math.min(generation, behaviour.leaders.length - 1)];

  const brokerFor = (nodeId: number) => ({
    nodeId,
    async produce({ topicData }: { topicData: Array<{ topic: string; partitions: Array<{ partition: number; messages: unknown[] }> }> }) {
      const index = calls.length;
      const partitions = topicData.flatMap((t) => t.partitions.map((p) => p.partition));
      calls.push({ nodeId, partitions });
      await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs?.[nodeId] ?? 0));
      if (behaviour.failingCalls.has(index)) {
        // The connection closes: kafkajs drops the Broker object and makes a new one for the next request.
        brokers.delete(nodeId);
        throw new KafkaJSConnectionClosedError('Closed connection', { host: `b${nodeId}`, port: 9092 });
      }
      for (const p of partitions) accepted.set(p, (accepted.get(p) ?? 0) + 1);
      return { topics: topicData.map((t) => ({ topicName: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })) })) };
    },
  });

  const cluster = {
    targetTopics: new Set([TOPIC]),
    async refreshMetadataIfNecessary() {},
    async refreshMetadata() { generation += 1; },
    async addMultipleTargetTopics() {},
    async connect() {},
    isConnected: () => true,
    removeBroker() {},
    findTopicPartitionMetadata: () => Object.entries(leaders()).map(([partitionId, leader]) => ({ partitionId: Number(partitionId), leader })),
    findLeaderForPartitions(_topic: string, partitions: string[]) {
      const result: Record<number, number[]> = {};
      for (const id of partitions) {
        const leader = leaders()[Number(id)];
        (result[leader] ??= []).push(Number(id));
      }
      return result;
    },
    async findBroker({ nodeId }: { nodeId: number | string }) {
      const id = Number(nodeId); // kafkajs passes object keys (strings)
      if (!brokers.has(id)) brokers.set(id, brokerFor(id));
      return brokers.get(id);
    },
  };

  const sequences = new Map<string, number>();
  const eosManager = {
    isTransactional: () => false,
    getTransactionalId: () => undefined,
    getProducerId: () => 7,
    getProducerEpoch: () => 0,
    async addPartitionsToTransaction() {},
    async acquireBrokerLock() {},
    async releaseBrokerLock() {},
    getSequence: (topic: string, partition: number) => sequences.get(`${topic}/${partition}`) ?? 0,
    updateSequence: (topic: string, partition: number, delta: number) => {
      sequences.set(`${topic}/${partition}`, (sequences.get(`${topic}/${partition}`) ?? 0) + delta);
    },
  };

  const retrier = async (attempt: (bail: (e: Error) => never, retryCount: number, retryTime: number) => Promise<unknown>) => {
    for (let retryCount = 0; ; retryCount += 1) {
      try {
        return await attempt((e) => { throw e; }, retryCount, 0);
      } catch (error) {
        if (retryCount >= 5) throw error;
      }
    }
  };

  const send = createSendMessages({
    logger: { debug() {}, error() {}, warn() {}, info() {} },
    cluster,
    partitioner: ({ message }: { message: { partition: number } }) => message.partition,
    eosManager,
    retrier,
  });
  const messages = Object.keys(behaviour.leaders[0]).map((p) => ({ partition: Number(p), key: `k${p}`, value: `v${p}` }));
  return { calls, accepted, sequences, run: () => send({ acks: -1, timeout: 30_000, topicMessages: [{ topic: TOPIC, messages }] }) };
}

test('a retry after one broker died does not resend partitions another broker already wrote', async () => {
  // p0 on broker 1 (its connection closes), p1 on broker 2 (written). Stock kafkajs sent p1 again on the retry.
  const h = harness({ leaders: [{ 0: 1, 1: 2 }], failingCalls: new Set([0]), delayMs: { 2: 5 } });
  const responses = await h.run();
  assert.deepEqual([...h.accepted.entries()].sort(), [[0, 1], [1, 1]], 'each partition written exactly once');
  assert.deepEqual(responses.map((r) => r.partition).sort(), [0, 1], 'a response for every partition');
  assert.equal(h.sequences.get(`${TOPIC}/1`), 1, 'the sequence advanced once per record');
});

test('a partition whose leader moved to a broker that already answered is still sent', async () => {
  // p0's leader (1) dies; after the refresh p0 is led by broker 2, which already acknowledged p1. Stock kafkajs
  // treated broker 2 as done and returned success without ever writing p0.
  const h = harness({ leaders: [{ 0: 1, 1: 2 }, { 0: 2, 1: 2 }], failingCalls: new Set([0]), delayMs: { 2: 5 } });
  await h.run();
  assert.deepEqual([...h.accepted.entries()].sort(), [[0, 1], [1, 1]]);
  assert.deepEqual(h.calls.at(-1), { nodeId: 2, partitions: [0] }, 'the retry sends only p0, to its new leader');
});

test('a request still in flight when another fails is waited for, not sent twice', async () => {
  // Broker 1 fails at once while broker 2 is slow: the retry must not race broker 2's answer.
  const h = harness({ leaders: [{ 0: 1, 1: 2, 2: 2 }], failingCalls: new Set([0]), delayMs: { 2: 50 } });
  await h.run();
  assert.deepEqual([...h.accepted.entries()].sort(), [[0, 1], [1, 1], [2, 1]]);
  assert.equal(h.calls.filter((c) => c.nodeId === 2).length, 1, 'broker 2 got one request');
});
