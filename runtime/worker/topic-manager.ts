import { ConnectError } from '../api/errors.ts';
import { docRef } from '../api/doc-ref.ts';
import type { KafkaAdmin, TopicSpec } from '../kafka/types.ts';
import { topicGroupFor, type TopicCreationGroup } from '../config/index.ts';

export interface TopicCreationSettings {
  enabled: boolean;
  /** Kafka Connect KIP-158 groups, first match wins; the `default` group last, matching every topic. */
  groups: TopicCreationGroup[];
}

/**
 * Makes sure every topic a task writes to exists before the first record goes out, creating missing ones from the
 * connector's `topic.creation.*` groups. Known topics are cached: the admin is asked once per topic.
 */
export class TopicManager {
  private readonly ready = new Set<string>();
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly admin: () => Promise<KafkaAdmin>, private readonly settings: TopicCreationSettings) {}

  async ensure(topics: Iterable<string>): Promise<void> {
    const missing = [...new Set(topics)].filter((t) => !this.ready.has(t));
    if (missing.length === 0) return;
    await Promise.all(missing.map((t) => this.ensureOne(t)));
  }

  private ensureOne(topic: string): Promise<void> {
    let p = this.pending.get(topic);
    if (!p) {
      p = this.check(topic).finally(() => this.pending.delete(topic));
      this.pending.set(topic, p);
    }
    return p;
  }

  private async check(topic: string): Promise<void> {
    const admin = await this.admin();
    if ((await admin.existingTopics([topic])).has(topic)) {
      this.ready.add(topic);
      return;
    }
    if (!this.settings.enabled) {
      throw new ConnectError(`Topic ${topic} does not exist and topic.creation.enable=false. Fix: create ${topic}, or set topic.creation.enable=true with topic.creation.default.partitions/replication.factor. ${docRef('topics')}`, { code: 'TOPIC_MISSING', stage: 'produce' });
    }
    await admin.createTopic(specFor(topic, this.settings));
    this.ready.add(topic);
  }
}

export function specFor(topic: string, settings: TopicCreationSettings): TopicSpec {
  const group = settings.groups.length ? topicGroupFor({ topicCreationGroups: settings.groups }, topic) : undefined;
  return {
    name: topic,
    partitions: group?.partitions ?? -1,
    replicationFactor: group?.replicationFactor ?? -1,
    configs: group?.configs ?? {},
  };
}
