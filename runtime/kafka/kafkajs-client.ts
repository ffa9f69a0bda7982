import { Kafka, logLevel as KafkaLogLevel, type Admin, type Message, type Producer, type Transaction, type LogEntry } from 'kafkajs';
import { ConnectError, RetriableError } from '../api/errors.ts';
import type { Logger } from '../api/task.ts';
import type {
  CommittedRecord, KafkaAdmin, KafkaClient, OutgoingRecord, ProducerOptions, TopicMetadata, TopicSpec, TransactionalProducer,
} from './types.ts';
import { PARTITION_KEY, partitionKeyPartitioner } from './partitioner.ts';
import { producerTuning } from './client-options.ts';
import { readCommittedTopic } from './read-committed.ts';
import { describeSecurity, securityFailure, type KafkaSecurity } from './security.ts';
import { explainKafkaError, kafkaErrorSection } from './error-docs.ts';
import { docRef, withDocRef } from '../api/doc-ref.ts';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Bound on connecting to an unreachable cluster before a clear error (ms). */
  connectTimeoutMs?: number;
  /** TLS/SASL options from kafkaSecurity(worker.securityProps); absent means PLAINTEXT. */
  security?: KafkaSecurity;
}

/** kafkajs errors that mean this producer is dead and must be recreated (fenced or lost its epoch). */
const FATAL_PRODUCER_ERRORS = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'UNKNOWN_PRODUCER_ID', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'INVALID_TXN_STATE']);

export function describeKafkaError(error: unknown): string {
  const e = error as { message?: string; type?: string; cause?: { message?: string } };
  const parts = [e?.message ?? String(error)];
  if (e?.type && !parts[0]!.includes(e.type)) parts.push(`(${e.type})`);
  if (e?.cause?.message) parts.push(`caused by: ${e.cause.message}`);
  return parts.join(' ');
}

export function isFencing(error: unknown): boolean {
  const type = (error as { type?: string })?.type;
  return type !== undefined && FATAL_PRODUCER_ERRORS.has(type);
}

export class KafkaJsClient implements KafkaClient {
  private readonly kafka: Kafka;
  private readonly brokers: string[];
  private readonly logger: Logger;
  private readonly security: KafkaSecurity | undefined;

  constructor(options: KafkaClientOptions) {
    this.brokers = options.brokers;
    this.logger = options.logger;
    this.security = options.security;
    if (options.security && options.security.protocol !== 'PLAINTEXT') this.logger.info(`Kafka connection security: ${describeSecurity(options.security)}`);
    const connectTimeout = options.connectTimeoutMs ?? 10_000;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      ...(options.security?.ssl ? { ssl: options.security.ssl } : {}),
      ...(options.security?.sasl ? { sasl: options.security.sasl } : {}),
      connectionTimeout: Math.min(connectTimeout, 5_000),
      requestTimeout: 30_000,
      // Bounded retries: an unreachable cluster surfaces as an error within ~connectTimeoutMs.
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: Math.max(1_000, connectTimeout / 4) },
      logLevel: KafkaLogLevel.WARN,
      logCreator: () => (entry: LogEntry) => {
        const { message, timestamp: _ts, logger: _logger, ...fields } = entry.log as LogEntry['log'] & { logger?: string };
        const text = `kafkajs ${entry.namespace}: ${message}`;
        // A transaction begun right after a commit meets CONCURRENT_TRANSACTIONS until the commit markers are
        // written; kafkajs retries it, so it is routine, not a warning.
        // Bounded retries are deliberate: a send that still fails aborts the whole transaction, so nothing is lost.
        const routine = String(fields.error ?? message).includes('concurrent operation on the same transaction')
          || message.startsWith('Limiting retries for the idempotent producer')
          // Error responses seen by a connection are retried by the caller; a final failure is thrown and logged there.
          || entry.namespace === 'Connection';
        // kafkajs logs every retried request at ERROR; they are retried, so warn.
        const section = entry.level <= KafkaLogLevel.WARN && !routine ? kafkaErrorSection({ message: `${text} ${String(fields.error ?? '')}` }) : undefined;
        if (entry.level <= KafkaLogLevel.WARN && !routine) this.logger.warn(section ? withDocRef(text, section) : text, fields);
        else this.logger.debug(text, fields);
      },
    });
  }

  producer(options: ProducerOptions): TransactionalProducer {
    return new KafkaJsTransactionalProducer(this.kafka, options, this.brokers, this.security);
  }

  async admin(): Promise<KafkaAdmin> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
    } catch (error) {
      throw unreachable(this.brokers, error, this.security);
    }
    return new KafkaJsAdmin(admin);
  }

  readCommitted(topic: string, options: { timeoutMs?: number } = {}): Promise<CommittedRecord[]> {
    return readCommittedTopic(this.kafka, topic, options.timeoutMs ?? 120_000);
  }

  async close(): Promise<void> {}
}

function unreachable(brokers: string[], error: unknown, security?: KafkaSecurity): ConnectError {
  const refused = securityFailure(brokers, error, security);
  if (refused) return refused;
  return new RetriableError(`Cannot reach Kafka at ${brokers.join(',')}: ${describeKafkaError(error)}. Check bootstrap.servers, that the brokers are up and that this host resolves and reaches their advertised listeners ${docRef('listeners')}`, { code: 'KAFKA_UNREACHABLE', cause: error });
}

class KafkaJsTransactionalProducer implements TransactionalProducer {
  readonly transactionalId: string;
  private readonly producer: Producer;
  private readonly compression;
  private transaction: Transaction | undefined;
  private readonly maxRequestBytes: number;

  constructor(kafka: Kafka, options: ProducerOptions, private readonly brokers: string[], private readonly security?: KafkaSecurity) {
    this.transactionalId = options.transactionalId;
    const tuning = producerTuning(options.overrides, `producer settings of ${options.transactionalId}:`);
    this.compression = tuning.compression;
    // Room for record and batch overheads below the broker's default message.max.bytes (1048588).
    this.maxRequestBytes = Math.max(16 * 1024, Math.min(tuning.maxRequestSize ?? 1_048_576, 1_048_576) - 64 * 1024);
    this.producer = kafka.producer({
      transactionalId: options.transactionalId,
      idempotent: true,
      // kafkajs loses or reorders records with several in-flight requests per partition (tulios/kafkajs#1005).
      maxInFlightRequests: 1,
      transactionTimeout: tuning.transactionTimeoutMs ?? options.transactionTimeoutMs ?? 60_000,
      createPartitioner: partitionKeyPartitioner,
      allowAutoTopicCreation: false,
      // Short first back-off: the usual retry is CONCURRENT_TRANSACTIONS right after a commit, gone within ms.
      retry: { retries: Math.max(1, tuning.retries ?? 10), initialRetryTime: tuning.retryBackoffMs ?? 20, maxRetryTime: 2_000 },
    });
  }

  async connect(): Promise<void> {
    try {
      await this.producer.connect();
    } catch (error) {
      throw unreachable(this.brokers, error, this.security);
    }
  }

  async begin(): Promise<void> {
    if (this.transaction) throw new ConnectError(`transaction already open for ${this.transactionalId}`, { code: 'ILLEGAL_STATE' });
    try {
      this.transaction = await this.producer.transaction();
    } catch (error) {
      throw explainKafkaError(error, `beginning a transaction of ${this.transactionalId}`, describeKafkaError);
    }
  }

  /**
   * kafkajs puts everything for one partition into one record batch and does not split it by size, so a large poll
   * would exceed the broker's message.max.bytes (1 MiB by default). Records go out in requests of at most
   * `maxRequestBytes`, one after the other (kafkajs must not have concurrent sends: tulios/kafkajs#1005).
   */
  async send(records: OutgoingRecord[]): Promise<void> {
    const txn = this.requireTransaction();
    let chunk: OutgoingRecord[] = [];
    let bytes = 0;
    for (const record of records) {
      const size = recordSize(record);
      if (chunk.length > 0 && bytes + size > this.maxRequestBytes) {
        await this.sendChunk(txn, chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(record);
      bytes += size;
    }
    if (chunk.length > 0) await this.sendChunk(txn, chunk);
  }

  private async sendChunk(txn: Transaction, records: OutgoingRecord[]): Promise<void> {
    try {
      await this.sendRequest(txn, records);
    } catch (error) {
      throw explainKafkaError(error, `sending ${records.length} record(s) in the transaction of ${this.transactionalId}`, describeKafkaError);
    }
  }

  private async sendRequest(txn: Transaction, records: OutgoingRecord[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const record of records) {
      const message: Message = { key: record.key, value: record.value };
      if (record.partition !== undefined) message.partition = record.partition;
      if (record.headers) message.headers = record.headers;
      if (record.timestamp !== undefined) message.timestamp = String(record.timestamp);
      if (record.partitionKey) (message as unknown as Record<symbol, Buffer>)[PARTITION_KEY] = record.partitionKey;
      let list = byTopic.get(record.topic);
      if (!list) byTopic.set(record.topic, (list = []));
      list.push(message);
    }
    await txn.sendBatch({
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      acks: -1,
      compression: this.compression,
    });
  }

  async commit(): Promise<void> {
    const txn = this.requireTransaction();
    this.transaction = undefined;
    try {
      await txn.commit();
    } catch (error) {
      throw explainKafkaError(error, `committing the transaction of ${this.transactionalId}`, describeKafkaError);
    }
  }

  async abort(): Promise<void> {
    const txn = this.transaction;
    this.transaction = undefined;
    if (txn && txn.isActive()) await txn.abort();
  }

  async disconnect(): Promise<void> {
    this.transaction = undefined;
    await this.producer.disconnect();
  }

  private requireTransaction(): Transaction {
    if (!this.transaction) throw new ConnectError(`no open transaction for ${this.transactionalId}`, { code: 'ILLEGAL_STATE' });
    return this.transaction;
  }
}

class KafkaJsAdmin implements KafkaAdmin {
  constructor(private readonly admin: Admin) {}

  async existingTopics(names: string[]): Promise<Set<string>> {
    const all = new Set(await this.admin.listTopics());
    return new Set(names.filter((n) => all.has(n)));
  }

  async createTopic(spec: TopicSpec): Promise<void> {
    try {
      await this.admin.createTopics({
        waitForLeaders: true,
        topics: [{
          topic: spec.name,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicationFactor,
          configEntries: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
        }],
      });
    } catch (error) {
      const type = (error as { type?: string; errors?: Array<{ type?: string }> });
      const inner = type.errors?.[0]?.type ?? type.type ?? '';
      if (inner === 'TOPIC_ALREADY_EXISTS') return;
      const fix = inner.includes('AUTHORIZATION')
        ? `grant this client CREATE on topic ${spec.name}, or create it yourself`
        : `create topic ${spec.name} yourself (partitions=${spec.partitions}, replication.factor=${spec.replicationFactor}${Object.keys(spec.configs).length ? ', ' + Object.entries(spec.configs).map(([k, v]) => `${k}=${v}`).join(', ') : ''}) or fix topic.creation.* settings`;
      // Retriable unless refused by ACLs: e.g. a replication factor may be unmet only while brokers are down.
      throw new ConnectError(`Could not create topic ${spec.name}: ${describeKafkaError(error)}${inner ? ` [${inner}]` : ''}. Fix: ${fix}. ${docRef('topics')}`, { code: 'TOPIC_CREATION', retriable: !inner.includes('AUTHORIZATION'), cause: error });
    }
  }

  async topicConfig(name: string, keys: string[]): Promise<Record<string, string>> {
    const res = await this.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name, configNames: keys }] });
    const out: Record<string, string> = {};
    for (const entry of res.resources[0]?.configEntries ?? []) out[entry.configName] = entry.configValue;
    return out;
  }

  async partitionCount(name: string): Promise<number> {
    const md = await this.admin.fetchTopicMetadata({ topics: [name] });
    return md.topics[0]?.partitions.length ?? 0;
  }

  async clusterId(): Promise<string> {
    return (await this.admin.describeCluster()).clusterId;
  }

  async topicMetadata(names: string[]): Promise<TopicMetadata[]> {
    const md = await this.admin.fetchTopicMetadata({ topics: names });
    return md.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr })),
    }));
  }

  async close(): Promise<void> {
    await this.admin.disconnect();
  }
}

/** Bytes a record adds to a produce request, near enough for splitting (varint and header overheads included). */
function recordSize(record: OutgoingRecord): number {
  let size = 32 + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  if (record.headers) for (const [k, v] of Object.entries(record.headers)) size += 8 + k.length + (typeof v === 'string' ? Buffer.byteLength(v) : v.length);
  return size;
}
