// Event filters of the Pika source connector: config keys (merge FILTER_KEYS into the connector's key table),
// validation, and the per-event decision. Semantics: filter-config.ts; key pattern syntax: key-patterns.ts;
// user guide: README.md. Wiring into the connector:
//   config.ts:  PIKA_SOURCE_KEYS = { …, ...FILTER_KEYS }   (validatePikaSource then checks the filter keys too)
//   task start: this.filter = buildFilterDecider(config);
//   per event:  const d = this.filter(event); if (!d.pass) { count d.reason; advance offset/ack; skip the record }
export { FILTER_KEYS, FILTER_REASONS, DATA_TYPES, DEFAULT_GLOBAL_EXCLUDE, validateFilterConfig, parseFilterSpec } from './filter-config.ts';
export type { FilterKeyDef, FilterReason, FilterSpec } from './filter-config.ts';
export { buildFilterDecider, buildEventFilter, PASS } from './event-filter.ts';
export type { FilterDecision, FilterableEvent, EventFilterDecider } from './event-filter.ts';
export { compileKeyPattern, compileKeyPatternList, splitPatternList, KeyPatternError } from './key-patterns.ts';
export type { KeyPattern } from './key-patterns.ts';
