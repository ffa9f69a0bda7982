// Decides per event whether it is sent (rules: filter-config.ts). Built once per task from the config; each
// decision is one of a few preallocated objects, so the hot path allocates nothing for UTF-8 keys.
//
// Order of checks (the first failing one names the reason): control events pass; filter.exclude; then the
// excludes (db, type, command, key); then the includes (db, type, command, key).
import { ConfigError } from '../../../runtime/api/index.ts';
import type { PikaEvent } from '../events/event.ts';
import { parseFilterSpec, validateFilterConfig, FILTER_REASONS, type FilterReason, type FilterSpec } from './filter-config.ts';
import { KeyMatcher } from './key-matcher.ts';

export type FilterDecision = { readonly pass: true } | { readonly pass: false; readonly reason: FilterReason };

export const PASS: FilterDecision = Object.freeze({ pass: true });
const DROP = Object.fromEntries(FILTER_REASONS.map((reason) => [reason, Object.freeze({ pass: false, reason })])) as Record<FilterReason, FilterDecision>;

/** The fields a decision reads (a PikaEvent, or anything with them, e.g. a snapshot event). */
export type FilterableEvent = Pick<PikaEvent, 'event_type' | 'op' | 'data_type' | 'db' | 'key' | 'key_b64'>;

export type EventFilterDecider = ((event: FilterableEvent) => FilterDecision) & {
  /** False when no rule can drop anything: the caller may skip calling it. */
  readonly active: boolean;
};

function keyRule(patterns: FilterSpec['keysInclude']): KeyMatcher | undefined {
  return patterns === undefined || patterns.length === 0 ? undefined : new KeyMatcher(patterns);
}

/**
 * Builds the decider of a config. Throws ConfigError listing every filter problem when the config was not
 * validated first. One decider per task (key matching reuses a buffer).
 */
export function buildFilterDecider(config: Record<string, string>): EventFilterDecider {
  const issues = validateFilterConfig(config);
  if (issues.length > 0) throw new ConfigError(issues.map((i) => `${i.key} ${i.message}`), 'Invalid event filter configuration');
  const spec = parseFilterSpec(config);
  const globalExclude = keyRule(spec.globalExclude);
  const keysExclude = keyRule(spec.keysExclude);
  const keysInclude = keyRule(spec.keysInclude);
  const { dbsExclude, dbsInclude, typesExclude, typesInclude, commandsExclude, commandsInclude } = spec;

  const decide = (event: FilterableEvent): FilterDecision => {
    if (event.event_type === 'control') return PASS;
    const keyB64 = event.key_b64;
    const binlog = event.event_type === 'binlog';
    if (keyB64 !== null && globalExclude?.matches(event.key, keyB64)) return DROP['filter.exclude'];
    if (dbsExclude?.has(event.db)) return DROP['filter.dbs.exclude'];
    if (typesExclude?.has(event.data_type)) return DROP['filter.types.exclude'];
    if (binlog && commandsExclude?.has(event.op)) return DROP['filter.commands.exclude'];
    if (keyB64 !== null && keysExclude?.matches(event.key, keyB64)) return DROP['filter.keys.exclude'];
    if (dbsInclude && !dbsInclude.has(event.db)) return DROP['filter.dbs.include'];
    if (typesInclude && !typesInclude.has(event.data_type)) return DROP['filter.types.include'];
    if (binlog && commandsInclude && !commandsInclude.has(event.op)) return DROP['filter.commands.include'];
    if (keyB64 !== null && keysInclude && !keysInclude.matches(event.key, keyB64)) return DROP['filter.keys.include'];
    return PASS;
  };
  const active = [globalExclude, keysExclude, keysInclude, dbsExclude, dbsInclude, typesExclude, typesInclude, commandsExclude, commandsInclude].some((r) => r !== undefined);
  return Object.assign(decide, { active });
}

/** Boolean form of buildFilterDecider: true = send the event. */
export function buildEventFilter(config: Record<string, string>): (event: FilterableEvent) => boolean {
  const decide = buildFilterDecider(config);
  return (event) => decide(event).pass;
}
