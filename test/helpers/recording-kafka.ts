import type { CommittedRecord, KafkaAdmin, KafkaClient, OutgoingRecord, ProducerOptions, TopicSpec, TransactionalProducer } from '../../runtime/kafka/types.ts';

/**
 * An in-memory stand-in for Kafka used only by unit tests of call ordering (integration tests use the real broker).
 * It records every producer call and keeps committed records, so a test can check what a read_committed reader sees.
 */
export class RecordingKafka implements KafkaClient {
  readonly calls: string[] = [];
  readonly committed: CommittedRecord[] = [];
  readonly topics = new Set<string>();
  failOn: ((call: string) => Error | undefined) | undefined;

  producer(options: ProducerOptions): TransactionalProducer {
    const kafka = this;
    let open: OutgoingRecord[] | undefined;
    const call = (name: string): void => {
      kafka.calls.push(name);
      const error = kafka.failOn?.(name);
      if (error) throw error;
    };
    return {
      transactionalId: options.transactionalId,
      async connect() { call('connect'); },
      async begin() { call('begin'); open = []; },
      async send(records) { call(`send:${[...new Set(records.map((r) => r.topic))].join(',')}`); open!.push(...records); },
      async commit() {
        call('commit');
        for (const r of open!) kafka.committed.push({ topic: r.topic, partition: 0, offset: BigInt(kafka.committed.length), key: r.key, value: r.value, headers: {}, timestamp: 0 });
        open = undefined;
      },
      async abort() { call('abort'); open = undefined; },
      async disconnect() { call('disconnect'); },
    };
  }

  async admin(): Promise<KafkaAdmin> {
    const kafka = this;
    return {
      async existingTopics(names) { return new Set(names.filter((n) => kafka.topics.has(n))); },
      async createTopic(spec: TopicSpec) { kafka.calls.push(`create:${spec.name}`); kafka.topics.add(spec.name); },
      async topicConfig() { return { 'cleanup.policy': 'compact' }; },
      async partitionCount() { return 1; },
      async close() {},
    };
  }

  async readCommitted(topic: string): Promise<CommittedRecord[]> {
    this.calls.push(`read:${topic}`);
    return this.committed.filter((r) => r.topic === topic);
  }

  async close(): Promise<void> {}
}
