// A connector config: one `.properties` file plus CONNECTOR_<NAME>_* environment overrides. The runtime checks its
// own keys; every other key must be documented by the connector plugin (`configKeys()`), whose `validate()` issues
// join the same error.
import type { ConnectorPlugin, SourceConnector } from '../api/connector.ts';
import { ConfigError } from '../api/errors.ts';
import { connectorSchema, TOPIC_CREATION_PREFIX } from './connector-schema.ts';
import { connectorEnvPrefix, envEntries } from './env.ts';
import { formatProblem, sortProblems, type Entry, type Problem } from './problems.ts';
import { readPropertiesFile } from './properties-file.ts';
import { findKey, findPrefix, stripPrefix } from './schema.ts';
import { parseTopicCreationGroups, type TopicCreationGroup } from './topic-creation.ts';
import { checkSchema, mapEntries, overlay, propsOf, unknownKeyProblem } from './validate.ts';

export interface ConnectorConfig {
  file: string;
  name: string;
  connectorClass: string;
  tasksMax: number;
  keyConverter?: string;
  valueConverter?: string;
  keyConverterProps: Record<string, string>;
  valueConverterProps: Record<string, string>;
  exactlyOnceSupport: 'required' | 'requested';
  transactionBoundary: 'poll' | 'interval';
  /** Unset: the worker's offset.flush.interval.ms applies. */
  transactionBoundaryIntervalMs?: number;
  topicCreationEnable: boolean;
  /** Task and converters on a worker thread of their own (task.thread.enable). */
  taskThreadEnable: boolean;
  /** Listed groups in order, then 'default' (matches everything). */
  topicCreationGroups: TopicCreationGroup[];
  /** `producer.override.*` without the prefix. */
  producerOverrides: Record<string, string>;
  errorsRetryTimeoutMs: number;
  errorsRetryDelayMaxMs: number;
  errorsTolerance: 'none' | 'all';
  dlqTopic?: string;
  dlqContextHeaders: boolean;
  errorsLogEnable: boolean;
  /** every key of the file after env overrides, as strings — what the connector plugin receives */
  props: Record<string, string>;
}

/**
 * Finds the plugin for a `connector.class` value. `knownNames`, when present, lets an unknown class be answered
 * with the names that would work; `pluginLookup` builds one from a plugin list.
 */
export type PluginLookup = ((connectorClass: string) => ConnectorPlugin | undefined) & { knownNames?: () => string[] };

export function pluginLookup(plugins: readonly ConnectorPlugin[]): PluginLookup {
  const find = (cls: string) => plugins.find((p) => p.names.includes(cls));
  return Object.assign(find, { knownNames: () => plugins.flatMap((p) => p.names) });
}

export interface ConnectorLoadOptions {
  /**
   * Names of the other connectors loaded by this worker: a variable under a sibling's longer prefix
   * (CONNECTOR_PIKA_SOURCE_… for "pika-source" next to "pika") is left to that sibling.
   */
  siblingNames?: readonly string[];
}

/** Loads and validates a connector file. Throws one ConfigError listing every problem (runtime's and plugin's). */
export function loadConnectorConfig(
  file: string,
  findPlugin: PluginLookup,
  env: NodeJS.ProcessEnv = process.env,
  opts: ConnectorLoadOptions = {},
): ConnectorConfig {
  const parsed = readPropertiesFile(file);
  return orThrow(checkConnector(parsed.entries, parsed.problems, file, findPlugin, env, opts), file);
}

/** The same validation from a map (e.g. a REST request); `source` names it in messages. No env unless given. */
export function parseConnectorProps(
  props: Record<string, string>,
  findPlugin: PluginLookup,
  opts: ConnectorLoadOptions & { source?: string; env?: NodeJS.ProcessEnv } = {},
): ConnectorConfig {
  const source = opts.source ?? 'connector config';
  return orThrow(checkConnectorProps(props, findPlugin, opts), source);
}

export type ConnectorCheck =
  | { ok: true; config: ConnectorConfig; problems: [] }
  | { ok: false; name: string | undefined; problems: Problem[] };

/**
 * Like parseConnectorProps, but returns the problems (each with its key and message) instead of throwing: for a
 * REST `validate` endpoint that answers per key.
 */
export function checkConnectorProps(
  props: Record<string, string>,
  findPlugin: PluginLookup,
  opts: ConnectorLoadOptions & { source?: string; env?: NodeJS.ProcessEnv } = {},
): ConnectorCheck {
  const source = opts.source ?? 'connector config';
  return checkConnector(mapEntries(props, source), [], source, findPlugin, opts.env ?? {}, opts);
}

function orThrow(check: ConnectorCheck, source: string): ConnectorConfig {
  if (check.ok) return check.config;
  const header = `Invalid connector configuration (${source}${check.name ? `, connector "${check.name}"` : ''})`;
  throw new ConfigError(check.problems.map(formatProblem), header);
}

interface ResolvedPlugin {
  connector: SourceConnector;
  keys: string[];
}

function checkConnector(
  fileEntries: ReadonlyMap<string, Entry>,
  parseProblems: Problem[],
  source: string,
  findPlugin: PluginLookup,
  env: NodeJS.ProcessEnv,
  opts: ConnectorLoadOptions,
): ConnectorCheck {
  const problems = [...parseProblems];

  // The name selects the environment variables, so it cannot come from them.
  const name = fileEntries.get('name')?.value.trim() ?? '';
  const overrides = name === ''
    ? []
    : envEntries(env, connectorEnvPrefix(name), (opts.siblingNames ?? []).filter((s) => s !== name).map(connectorEnvPrefix));
  const nameOverride = overrides.find((e) => e.key === 'name');
  if (nameOverride) {
    problems.push({ key: 'name', origin: nameOverride.origin, message: 'the connector name cannot be set from the environment' });
  }
  const classOverride = overrides.find((e) => e.key === 'connector.class');
  const classEntry = classOverride ?? fileEntries.get('connector.class');
  const plugin = classEntry === undefined || classEntry.value.trim() === ''
    ? undefined
    : resolvePlugin(classEntry, findPlugin, problems);

  const isKnown = (key: string) => isRuntimeKey(key) || plugin === undefined || isPluginKey(plugin.keys, key);
  const known = overrides.filter((e) => e.key !== 'name' && isKnown(e.key));
  for (const e of overrides) {
    if (e.key !== 'name' && !isKnown(e.key)) problems.push(unknownKey(e, plugin));
  }
  const entries = overlay(fileEntries, known);

  const checked = checkSchema(connectorSchema, entries, source);
  problems.push(...checked.problems);
  const topics = parseTopicCreationGroups(entries, checked.values, source);
  problems.push(...topics.problems);
  for (const e of checked.unmatched) {
    if (topics.consumed.has(e.key)) continue;
    const hint = topics.hintFor(e.key);
    if (hint !== undefined) problems.push({ key: e.key, origin: e.origin, message: `unknown connector key; ${hint}` });
    else if (plugin !== undefined && !isPluginKey(plugin.keys, e.key)) problems.push(unknownKey(e, plugin));
  }

  const v = checked.values;
  const boundaryInterval = v.get('transaction.boundary.interval.ms') as number | undefined;
  const intervalEntry = entries.get('transaction.boundary.interval.ms');
  if (boundaryInterval !== undefined && v.get('transaction.boundary') === 'poll' && intervalEntry) {
    problems.push({
      key: intervalEntry.key, origin: intervalEntry.origin,
      message: 'only used with transaction.boundary=interval, but transaction.boundary is poll',
    });
  }

  const props = propsOf(entries);
  if (plugin !== undefined) problems.push(...pluginIssues(plugin.connector, props, entries, source));
  if (problems.length > 0) return { ok: false, name: name || undefined, problems: sortProblems(problems) };

  const config: ConnectorConfig = {
    file: source,
    name: v.get('name') as string,
    connectorClass: v.get('connector.class') as string,
    tasksMax: v.get('tasks.max') as number,
    ...optional('keyConverter', v.get('key.converter') as string | undefined),
    ...optional('valueConverter', v.get('value.converter') as string | undefined),
    keyConverterProps: stripPrefix(props, 'key.converter.'),
    valueConverterProps: stripPrefix(props, 'value.converter.'),
    exactlyOnceSupport: v.get('exactly.once.support') as ConnectorConfig['exactlyOnceSupport'],
    transactionBoundary: v.get('transaction.boundary') as ConnectorConfig['transactionBoundary'],
    ...optional('transactionBoundaryIntervalMs', boundaryInterval),
    topicCreationEnable: v.get('topic.creation.enable') as boolean,
    taskThreadEnable: v.get('task.thread.enable') as boolean,
    topicCreationGroups: topics.groups,
    producerOverrides: stripPrefix(props, 'producer.override.'),
    errorsRetryTimeoutMs: v.get('errors.retry.timeout') as number,
    errorsRetryDelayMaxMs: v.get('errors.retry.delay.max.ms') as number,
    errorsTolerance: v.get('errors.tolerance') as ConnectorConfig['errorsTolerance'],
    ...optional('dlqTopic', v.get('errors.deadletterqueue.topic.name') as string | undefined),
    dlqContextHeaders: v.get('errors.deadletterqueue.context.headers.enable') as boolean,
    errorsLogEnable: v.get('errors.log.enable') as boolean,
    props,
  };
  return { ok: true, config, problems: [] };
}

function optional<K extends string, T>(key: K, value: T | undefined): { [P in K]?: T } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: T };
}

function isRuntimeKey(key: string): boolean {
  return findKey(connectorSchema, key) !== undefined || findPrefix(connectorSchema, key) !== undefined
    || key.startsWith(TOPIC_CREATION_PREFIX);
}

/** A plugin key list may hold prefixes written as `some.prefix.*`. */
function isPluginKey(pluginKeys: readonly string[], key: string): boolean {
  return pluginKeys.some((k) => (k.endsWith('.*') ? key.startsWith(k.slice(0, -1)) && key.length > k.length - 1 : k === key));
}

function unknownKey(e: Entry, plugin: ResolvedPlugin | undefined): Problem {
  const candidates = [...connectorSchema.keys.map((k) => k.name), ...(plugin?.keys ?? []).filter((k) => !k.endsWith('.*'))];
  return unknownKeyProblem(e, connectorSchema, candidates);
}

function resolvePlugin(classEntry: Entry, findPlugin: PluginLookup, problems: Problem[]): ResolvedPlugin | undefined {
  const cls = classEntry.value.trim();
  const found = findPlugin(cls);
  if (found === undefined) {
    const names = findPlugin.knownNames?.() ?? [];
    const known = names.length > 0 ? `known: ${names.join(', ')}` : 'no connector plugin is registered under this name';
    problems.push({ key: classEntry.key, origin: classEntry.origin, message: `unknown connector class "${cls}"; ${known}` });
    return undefined;
  }
  try {
    const connector = found.create();
    return { connector, keys: connector.configKeys() };
  } catch (err) {
    problems.push({
      key: classEntry.key, origin: classEntry.origin,
      message: `connector plugin "${cls}" failed to load: ${err instanceof Error ? err.message : String(err)}`,
    });
    return undefined;
  }
}

/** The plugin's issues, located at the key's line (or as missing from the source). */
function pluginIssues(
  connector: SourceConnector,
  props: Record<string, string>,
  entries: ReadonlyMap<string, Entry>,
  source: string,
): Problem[] {
  let issues;
  try {
    issues = connector.validate({ ...props });
  } catch (err) {
    return [{ origin: { kind: 'absent', source }, message: `the connector plugin's validate() failed: ${err instanceof Error ? err.message : String(err)}` }];
  }
  return issues.map((issue) => ({
    key: issue.key,
    origin: entries.get(issue.key)?.origin ?? { kind: 'absent', source },
    message: issue.message,
  }));
}
