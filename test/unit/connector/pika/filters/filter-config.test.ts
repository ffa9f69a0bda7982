import { test } from 'node:test';
import assert from 'node:assert/strict';
import { knownOps } from '../../../../../connector/pika/events/commands.ts';
import { FILTER_KEYS, FILTER_REASONS, splitPatternList, compileKeyPattern, validateFilterConfig } from '../../../../../connector/pika/filters/index.ts';
import { PIKA_SOURCE_KEYS } from '../../../../../connector/pika/source/config.ts';

const messageOf = (config: Record<string, string>): string => {
  const issues = validateFilterConfig(config);
  assert.equal(issues.length, 1, JSON.stringify(issues));
  return `${issues[0]!.key} ${issues[0]!.message}`;
};

test('a valid config has no issues; empty values mean "not set"', () => {
  assert.deepEqual(
    validateFilterConfig({
      'filter.exclude': '',
      'filter.keys.include': 'user:*,re:^session:[0-9]+$,exact',
      'filter.keys.exclude': '',
      'filter.types.include': 'string, HASH',
      'filter.commands.exclude': 'flushdb,FlushAll',
      'filter.dbs.include': 'db0,db7',
      'pika.host': 'not looked at',
    }),
    [],
  );
});

test('a bad regex names the key, the regex and the engine error', () => {
  const msg = messageOf({ 'filter.keys.exclude': 'ok:*,re:^a[b' });
  assert.match(msg, /^filter\.keys\.exclude /);
  assert.match(msg, /re:\^a\[b/);
  assert.match(msg, /invalid regex .*Unterminated character class/i);
});

test('a * inside a literal pattern, an unknown escape and an empty item are errors', () => {
  assert.match(messageOf({ 'filter.exclude': 'a*b' }), /only works at the end.*re:/);
  assert.match(messageOf({ 'filter.keys.include': 'a\\qb' }), /unknown escape "\\q"/);
  assert.match(messageOf({ 'filter.keys.include': 'a,,b' }), /empty key pattern/);
  assert.match(messageOf({ 'filter.keys.include': 'a,' }), /empty key pattern/);
});

test('unknown data types and commands are listed together with the valid names', () => {
  const types = messageOf({ 'filter.types.include': 'string,strings,json' });
  assert.match(types, /unknown data type "strings", "json"; valid: string, hash, list, set, zset, stream, generic/);
  const commands = messageOf({ 'filter.commands.include': 'set,sett' });
  assert.match(commands, /unknown command "sett"; valid: /);
  for (const op of knownOps()) assert.ok(commands.includes(op), op);
});

test('an empty name in a type or command list is an error, not a silent no-op', () => {
  assert.match(messageOf({ 'filter.commands.exclude': 'flushdb,' }), /empty command name .*trailing comma/);
  assert.match(messageOf({ 'filter.types.include': 'string,,hash' }), /empty data type name/);
});

test('DB names must be db0..db7', () => {
  assert.match(messageOf({ 'filter.dbs.include': 'db0,1,db8' }), /db0\.\.db7, got "1", "db8"/);
});

test('every problem is listed, one issue per key', () => {
  const issues = validateFilterConfig({ 'filter.types.exclude': 'x', 'filter.dbs.exclude': 'y', 'filter.keys.include': 're:)' });
  assert.deepEqual(issues.map((i) => i.key).sort(), ['filter.dbs.exclude', 'filter.keys.include', 'filter.types.exclude']);
});

test('the connector key table holds every filter key as defined here; every key is a reason label', () => {
  for (const [key, def] of Object.entries(FILTER_KEYS)) assert.equal(PIKA_SOURCE_KEYS[key], def, key);
  assert.ok(PIKA_SOURCE_KEYS['filter.keys.include']!.doc.length > 0);
  assert.deepEqual([...FILTER_REASONS].sort(), Object.keys(FILTER_KEYS).sort());
});

test('list splitting: escaped commas stay, commas in regex groups and classes stay, whitespace is trimmed', () => {
  assert.deepEqual(splitPatternList(' a , b\\,c ,re:^x{1,2}(a|b,c)[,]$ , d'), ['a', 'b\\,c', 're:^x{1,2}(a|b,c)[,]$', 'd']);
  assert.deepEqual(splitPatternList('re:a\\,b,c'), ['re:a\\,b', 'c']);
});

test('pattern kinds: exact, prefix, escaped trailing star, regex', () => {
  assert.equal(compileKeyPattern('k').kind, 'exact');
  assert.equal(compileKeyPattern('k*').kind, 'prefix');
  assert.equal(compileKeyPattern('k\\*').kind, 'exact');
  assert.equal(compileKeyPattern('k\\\\*').kind, 'prefix', 'an escaped backslash before the star');
  assert.equal(compileKeyPattern('re:k.*').kind, 'regex');
});
