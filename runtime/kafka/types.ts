/**
 * The runtime's own view of Kafka: the few operations the worker needs. Everything kafkajs-specific lives in
 * `kafkajs-client.ts`, so the rest of the runtime (and every connector) is independent of the client library.
 */
export interface OutgoingRecord {
  topic: string;
  /** Explicit partition; wins over `partitionKey`. */
  partition?: number;
  /** Bytes hashed (murmur2, as Kafka's Java client) to choose the partition instead of the message key. */
  partitionKey?: Buffer;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string>;
  timestamp?: number;
}

export interface CommittedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  timestamp: number;
}

/**
 * A transactional, idempotent producer. `connect` registers the transactional id with the coordinator, which
 * fences any older producer (zombie) using the same id and aborts its open transaction.
 */
export interface TransactionalProducer {
  readonly transactionalId: string;
  connect(): Promise<void>;
  begin(): Promise<void>;
  /** Sends inside the open transaction; resolves when the broker acknowledged every record (acks=all). */
  send(records: OutgoingRecord[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  disconnect(): Promise<void>;
}

export interface TopicSpec {
  name: string;
  /** -1 = broker default */
  partitions: number;
  /** -1 = broker default */
  replicationFactor: number;
  configs: Record<string, string>;
}

export interface TopicMetadata {
  name: string;
  partitions: Array<{ partition: number; leader: number; replicas: number[]; isr: number[] }>;
}

export interface KafkaAdmin {
  /** Topics among `names` that exist. */
  existingTopics(names: string[]): Promise<Set<string>>;
  /** Creates the topic; throws a ConnectError naming the topic and the fix when the broker refuses. */
  createTopic(spec: TopicSpec): Promise<void>;
  topicConfig(name: string, keys: string[]): Promise<Record<string, string>>;
  partitionCount(name: string): Promise<number>;
  /** The cluster id (REST `GET /`, support bundles); optional so test fakes need not have it. */
  clusterId?(): Promise<string>;
  /** Partition leaders, replicas and in-sync replicas of existing topics (support bundles). */
  topicMetadata?(names: string[]): Promise<TopicMetadata[]>;
  close(): Promise<void>;
}

export interface ProducerOptions {
  transactionalId: string;
  clientId: string;
  /** Kafka client properties (`producer.*` of the worker, then `producer.override.*` of the connector). */
  overrides: Record<string, string>;
  transactionTimeoutMs?: number;
}

export interface KafkaClient {
  producer(options: ProducerOptions): TransactionalProducer;
  admin(): Promise<KafkaAdmin>;
  /** Every committed record of `topic` from the start to the end offsets as of the call (read_committed). */
  readCommitted(topic: string, options?: { timeoutMs?: number }): Promise<CommittedRecord[]>;
  close(): Promise<void>;
}
