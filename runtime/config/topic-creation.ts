// Topic creation groups of a source connector, with Kafka Connect's KIP-158 semantics:
// - `topic.creation.groups` lists group aliases in matching order; "default" always exists and comes last;
// - group <g> takes `topic.creation.<g>.include` / `.exclude` (comma-separated regexes, each matching a whole topic
//   name), `.replication.factor` and `.partitions` (inherited from the default group when unset) and any other key
//   as a topic config (e.g. `cleanup.policy`); the default group's other configs are not inherited;
// - a topic gets the first group whose include matches and whose exclude does not, else the default group.
import { checkValue, fullMatch, partitionCount, regexList, replicationFactor } from './formats.ts';
import { DEFAULT_GROUP, TOPIC_CREATION_PREFIX } from './connector-schema.ts';
import type { Entry, Problem } from './problems.ts';
import { valueProblem } from './validate.ts';

export interface TopicCreationGroup {
  name: string;
  include: RegExp[];
  exclude: RegExp[];
  /** -1: broker default. */
  replicationFactor: number;
  /** -1: broker default. */
  partitions: number;
  /** Other topic configs, e.g. `cleanup.policy`. */
  configs: Record<string, string>;
}

const OWN_SETTINGS = ['include', 'exclude', 'replication.factor', 'partitions'];

export interface ParsedGroups {
  /** The listed groups in order, then "default". */
  groups: TopicCreationGroup[];
  /** Keys read here (group settings and configs). */
  consumed: Set<string>;
  /** Why a `topic.creation.…` key that was not consumed is wrong. */
  hintFor(key: string): string | undefined;
  problems: Problem[];
}

/**
 * Reads the groups from the entries. `values` holds the already-checked `topic.creation.groups` and
 * `topic.creation.default.*` numbers (absent when invalid). `source` names the config in missing-key problems.
 */
export function parseTopicCreationGroups(
  entries: ReadonlyMap<string, Entry>,
  values: ReadonlyMap<string, unknown>,
  source: string,
): ParsedGroups {
  const consumed = new Set<string>();
  const problems: Problem[] = [];
  const defaultPrefix = `${TOPIC_CREATION_PREFIX}${DEFAULT_GROUP}.`;
  const defaultGroup: TopicCreationGroup = {
    name: DEFAULT_GROUP,
    include: [fullMatch('.*')],
    exclude: [],
    replicationFactor: (values.get(`${defaultPrefix}replication.factor`) as number | undefined) ?? -1,
    partitions: (values.get(`${defaultPrefix}partitions`) as number | undefined) ?? -1,
    configs: {},
  };
  for (const e of entries.values()) {
    if (!e.key.startsWith(defaultPrefix)) continue;
    const setting = e.key.slice(defaultPrefix.length);
    if (setting === 'include' || setting === 'exclude') {
      problems.push({
        key: e.key, origin: e.origin,
        message: 'not allowed: the default group takes every topic that no listed group takes',
      });
    } else if (setting !== 'replication.factor' && setting !== 'partitions' && setting !== '') {
      defaultGroup.configs[setting] = e.value;
    }
  }

  const aliases = values.get(`${TOPIC_CREATION_PREFIX}groups`) as string[] | undefined;
  if (aliases === undefined) {
    // The list itself is invalid (already reported): do not also report each group's keys as unknown.
    for (const key of entries.keys()) if (key.startsWith(TOPIC_CREATION_PREFIX)) consumed.add(key);
    return { groups: [defaultGroup], consumed, problems, hintFor: () => undefined };
  }

  const groups: TopicCreationGroup[] = [];
  for (const alias of aliases) {
    const prefix = `${TOPIC_CREATION_PREFIX}${alias}.`;
    const setting = (name: string): Entry | undefined => {
      const e = entries.get(prefix + name);
      if (e) consumed.add(e.key);
      return e;
    };
    const group: TopicCreationGroup = {
      name: alias,
      include: readRegexes(setting('include'), problems),
      exclude: readRegexes(setting('exclude'), problems),
      replicationFactor: readNumber(setting('replication.factor'), replicationFactor, problems) ?? defaultGroup.replicationFactor,
      partitions: readNumber(setting('partitions'), partitionCount, problems) ?? defaultGroup.partitions,
      configs: {},
    };
    const include = entries.get(`${prefix}include`);
    if (group.include.length === 0 && (include === undefined || include.value.trim() === '')) {
      problems.push({
        key: `${prefix}include`,
        origin: include?.origin ?? { kind: 'absent', source },
        message: `required for group "${alias}" listed in topic.creation.groups (a group without include takes no topic)`,
      });
    }
    for (const e of entries.values()) {
      if (!e.key.startsWith(prefix)) continue;
      const name = e.key.slice(prefix.length);
      if (OWN_SETTINGS.includes(name) || name === '') continue;
      group.configs[name] = e.value;
      consumed.add(e.key);
    }
    groups.push(group);
  }
  groups.push(defaultGroup);
  return { groups, consumed, problems, hintFor: (key) => topicCreationHint(key, aliases) };
}

function readRegexes(entry: Entry | undefined, problems: Problem[]): RegExp[] {
  if (entry === undefined) return [];
  const checked = checkValue(regexList, entry.value);
  if (!checked.ok) {
    problems.push(valueProblem(entry, checked.message, regexList));
    return [];
  }
  return checked.value.map(fullMatch);
}

function readNumber(entry: Entry | undefined, format: typeof partitionCount, problems: Problem[]): number | undefined {
  if (entry === undefined) return undefined;
  const checked = checkValue(format, entry.value);
  if (checked.ok) return checked.value;
  problems.push(valueProblem(entry, checked.message, format));
  return undefined;
}

function topicCreationHint(key: string, aliases: readonly string[]): string | undefined {
  if (!key.startsWith(TOPIC_CREATION_PREFIX)) return undefined;
  const alias = key.slice(TOPIC_CREATION_PREFIX.length).split('.')[0] ?? '';
  return aliases.includes(alias)
    ? `a setting name must follow the group name, e.g. ${TOPIC_CREATION_PREFIX}${alias}.include`
    : `group "${alias}" is not listed in topic.creation.groups`;
}

/** The group whose settings a new topic gets: the first listed group that takes it, else "default". */
export function topicGroupFor(cfg: { topicCreationGroups: TopicCreationGroup[] }, topic: string): TopicCreationGroup {
  const groups = cfg.topicCreationGroups;
  for (const g of groups) {
    if (g.include.some((re) => re.test(topic)) && !g.exclude.some((re) => re.test(topic))) return g;
  }
  const fallback = groups[groups.length - 1];
  if (fallback === undefined) throw new Error('connector config has no topic creation groups (the default group is always present)');
  return fallback;
}
