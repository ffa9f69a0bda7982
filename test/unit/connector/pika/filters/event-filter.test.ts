import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBinlogItem, encodeBinlogItem } from '../../../../../connector/pika/binlog/item.ts';
import { binlogItemToEvents, dbIndexFromName } from '../../../../../connector/pika/events/binlog-events.ts';
import type { PikaEvent } from '../../../../../connector/pika/events/event.ts';
import { encodeRespCommand } from '../../../../../connector/pika/protocol/resp.ts';
import { buildEventFilter, buildFilterDecider, type FilterDecision } from '../../../../../connector/pika/filters/index.ts';
import { ConfigError } from '../../../../../runtime/api/index.ts';
import { pushedItems } from '../binlog/pushed-items.ts';

/** Events the real binlog event builder makes of one command. */
function binlogEvents(argv: Array<string | Uint8Array>, db = 0): PikaEvent[] {
  const item = encodeBinlogItem({ execTime: 1_700_000_000, termId: 1, logicId: 7, start: { filenum: 0, offset: 100 } }, encodeRespCommand(argv));
  return binlogItemToEvents(decodeBinlogItem(item), {
    db,
    sourceId: 's',
    host: '192.0.2.1',
    port: 9221,
    replicationId: null,
    profile: '4.0',
    end: { filenum: 0, offset: 200 },
  });
}
const one = (argv: Array<string | Uint8Array>, db = 0): PikaEvent => {
  const events = binlogEvents(argv, db);
  assert.equal(events.length, 1);
  return events[0]!;
};
/** A snapshot event of a list key, as the snapshot builder shapes it (op rpush, real data type). */
const snapshotList = (key: string, db = 0): PikaEvent => ({ ...one(['rpush', key, 'a'], db), event_type: 'snapshot', binlog: null });
const controlEvent = (db = 0): PikaEvent => ({ ...one(['flushdb'], db), event_type: 'control', op: 'snapshot-start', args_b64: [] });

const NO_DEFAULTS = { 'filter.exclude': '' };
const decide = (config: Record<string, string>, event: PikaEvent): FilterDecision => buildFilterDecider({ ...NO_DEFAULTS, ...config })(event);
const reasonOf = (config: Record<string, string>, event: PikaEvent): string => {
  const d = decide(config, event);
  return d.pass ? 'pass' : d.reason;
};

test('no filter keys: every event passes and the decider says it is inactive', () => {
  const d = buildFilterDecider(NO_DEFAULTS);
  assert.equal(d.active, false);
  for (const e of [one(['set', 'k', 'v']), one(['flushdb']), snapshotList('l'), controlEvent()]) assert.equal(d(e).pass, true);
});

test('key include: exact, prefix and regex; other keys are dropped with reason filter.keys.include', () => {
  const config = { 'filter.keys.include': 'config,user:*,re:^session:[0-9]+$' };
  assert.equal(reasonOf(config, one(['set', 'config', 'v'])), 'pass');
  assert.equal(reasonOf(config, one(['set', 'configx', 'v'])), 'filter.keys.include', 'exact means the whole key');
  assert.equal(reasonOf(config, one(['hset', 'user:42', 'f', 'v'])), 'pass');
  assert.equal(reasonOf(config, one(['set', 'user:', 'v'])), 'pass', 'the prefix itself is a key starting with the prefix');
  assert.equal(reasonOf(config, one(['set', 'users', 'v'])), 'filter.keys.include');
  assert.equal(reasonOf(config, one(['set', 'session:17', 'v'])), 'pass');
  assert.equal(reasonOf(config, one(['set', 'session:17x', 'v'])), 'filter.keys.include');
});

test('key exclude wins over key include', () => {
  const config = { 'filter.keys.include': 'user:*', 'filter.keys.exclude': 'user:tmp:*' };
  assert.equal(reasonOf(config, one(['set', 'user:1', 'v'])), 'pass');
  assert.equal(reasonOf(config, one(['set', 'user:tmp:1', 'v'])), 'filter.keys.exclude');
  assert.equal(reasonOf(config, one(['set', 'other', 'v'])), 'filter.keys.include');
});

test('a regex is searched anywhere in the key unless anchored, and keys are case-sensitive', () => {
  const config = { 'filter.keys.exclude': 're:cache' };
  assert.equal(reasonOf(config, one(['set', 'a:cache:b', 'v'])), 'filter.keys.exclude');
  assert.equal(reasonOf(config, one(['set', 'a:CACHE:b', 'v'])), 'pass');
  assert.equal(reasonOf({ 'filter.keys.exclude': 'User:*' }, one(['set', 'user:1', 'v'])), 'pass');
});

test('binary keys are matched on their bytes: \\xNN in exact/prefix, one char per byte in regexes', () => {
  const key = Buffer.from([0xff, 0x00, 0x41, 0x80]);
  const e = one(['set', key, 'v']);
  assert.equal(e.key, null, 'precondition: not valid UTF-8');
  assert.equal(reasonOf({ 'filter.keys.include': '\\xff\\x00A\\x80' }, e), 'pass');
  assert.equal(reasonOf({ 'filter.keys.include': '\\xff\\x00A' }, e), 'filter.keys.include', 'exact is not prefix');
  assert.equal(reasonOf({ 'filter.keys.include': '\\xff\\x00*' }, e), 'pass');
  assert.equal(reasonOf({ 'filter.keys.include': '\\xfe*' }, e), 'filter.keys.include');
  assert.equal(reasonOf({ 'filter.keys.include': 're:^\\xff\\x00A' }, e), 'pass');
  assert.equal(reasonOf({ 'filter.keys.include': 're:^A' }, e), 'filter.keys.include');
  assert.equal(reasonOf({ 'filter.keys.include': '*' }, e), 'pass', 'a lone * matches every key');
});

test('a UTF-8 key is matched by its text and by a byte prefix that cuts a character', () => {
  const e = one(['set', '用户:1', 'v']);
  assert.equal(reasonOf({ 'filter.keys.include': '用户:*' }, e), 'pass');
  assert.equal(reasonOf({ 'filter.keys.include': 're:^用户:\\d$' }, e), 'pass');
  const firstByte = Buffer.from('用')[0]!.toString(16);
  assert.equal(reasonOf({ 'filter.keys.include': `\\x${firstByte}*` }, e), 'pass');
  assert.equal(reasonOf({ 'filter.keys.include': '\\x00*' }, e), 'filter.keys.include');
});

test('a key starting with a UTF-8 byte-order mark is matched on its real bytes, BOM included', () => {
  const e = one(['set', Buffer.from('\uFEFFuser:1'), 'v']);
  assert.equal(reasonOf({ 'filter.keys.include': 'user:*' }, e), 'filter.keys.include');
  assert.equal(reasonOf({ 'filter.keys.include': '\\xef\\xbb\\xbfuser:*' }, e), 'pass');
  assert.equal(reasonOf({ 'filter.keys.include': 're:^\\ufeffuser:1$' }, e), 'pass');
  assert.equal(reasonOf({ 'filter.keys.include': 're:^user' }, e), 'filter.keys.include');
});

test('escapes: \\, and \\* are literal, \\s is a space; commas inside a regex group do not split', () => {
  assert.equal(reasonOf({ 'filter.keys.include': 'a\\,b' }, one(['set', 'a,b', 'v'])), 'pass');
  assert.equal(reasonOf({ 'filter.keys.include': 'star\\*' }, one(['set', 'star*', 'v'])), 'pass');
  assert.equal(reasonOf({ 'filter.keys.include': 'star\\*' }, one(['set', 'starry', 'v'])), 'filter.keys.include');
  assert.equal(reasonOf({ 'filter.keys.include': 'a\\sb' }, one(['set', 'a b', 'v'])), 'pass');
  const config = { 'filter.keys.include': 're:^x{1,3}$, y' };
  assert.equal(reasonOf(config, one(['set', 'xxx', 'v'])), 'pass');
  assert.equal(reasonOf(config, one(['set', 'y', 'v'])), 'pass');
  assert.equal(reasonOf(config, one(['set', 'xxxx', 'v'])), 'filter.keys.include');
});

test('multi-key commands: each key event is decided on its own key', () => {
  const d = buildFilterDecider({ ...NO_DEFAULTS, 'filter.keys.exclude': 'tmp:*' });
  const events = binlogEvents(['del', 'tmp:1', 'keep', 'tmp:2']);
  assert.deepEqual(events.map((e) => [e.key, d(e).pass]), [['tmp:1', false], ['keep', true], ['tmp:2', false]]);
});

test('data type include/exclude; generic covers type-agnostic commands', () => {
  assert.equal(reasonOf({ 'filter.types.include': 'string,hash' }, one(['hset', 'h', 'f', 'v'])), 'pass');
  assert.equal(reasonOf({ 'filter.types.include': 'string,hash' }, one(['lpush', 'l', 'a'])), 'filter.types.include');
  assert.equal(reasonOf({ 'filter.types.include': 'string' }, one(['del', 'k'])), 'filter.types.include');
  assert.equal(reasonOf({ 'filter.types.exclude': 'generic' }, one(['expire', 'k', '10'])), 'filter.types.exclude');
  assert.equal(reasonOf({ 'filter.types.include': 'zset', 'filter.types.exclude': 'zset' }, one(['zadd', 'z', '1', 'm'])), 'filter.types.exclude');
});

test('command include/exclude, case-insensitive in the config', () => {
  assert.equal(reasonOf({ 'filter.commands.exclude': 'FLUSHDB' }, one(['flushdb'])), 'filter.commands.exclude');
  assert.equal(reasonOf({ 'filter.commands.include': 'set,Hset' }, one(['hset', 'h', 'f', 'v'])), 'pass');
  assert.equal(reasonOf({ 'filter.commands.include': 'set,hset' }, one(['hdel', 'h', 'f'])), 'filter.commands.include');
  assert.equal(reasonOf({ 'filter.commands.include': 'hset', 'filter.commands.exclude': 'hset' }, one(['hset', 'h', 'f', 'v'])), 'filter.commands.exclude');
});

test('DB include/exclude', () => {
  assert.equal(reasonOf({ 'filter.dbs.include': 'db0, db1' }, one(['set', 'k', 'v'], 1)), 'pass');
  assert.equal(reasonOf({ 'filter.dbs.include': 'db0,db1' }, one(['set', 'k', 'v'], 2)), 'filter.dbs.include');
  assert.equal(reasonOf({ 'filter.dbs.exclude': 'db2' }, one(['set', 'k', 'v'], 2)), 'filter.dbs.exclude');
  assert.equal(reasonOf({ 'filter.dbs.include': 'db2', 'filter.dbs.exclude': 'db2' }, one(['set', 'k', 'v'], 2)), 'filter.dbs.exclude');
});

test('keyless events (flushdb) ignore key rules and are decided by type, command and DB', () => {
  const flush = one(['flushdb'], 3);
  assert.equal(reasonOf({ 'filter.keys.include': 'user:*', 'filter.keys.exclude': '*', 'filter.exclude': '*' }, flush), 'pass');
  assert.equal(reasonOf({ 'filter.keys.include': 'user:*', 'filter.commands.exclude': 'flushdb,flushall' }, flush), 'filter.commands.exclude');
  assert.equal(reasonOf({ 'filter.dbs.exclude': 'db3' }, flush), 'filter.dbs.exclude');
  assert.equal(reasonOf({ 'filter.types.include': 'string' }, flush), 'filter.types.include');
});

test('snapshot events obey key, type and DB rules but not command rules', () => {
  const e = snapshotList('jobs:1', 1);
  assert.equal(reasonOf({ 'filter.commands.include': 'lpush' }, e), 'pass', 'rpush is how the snapshot rebuilds a list, not a command the master ran');
  assert.equal(reasonOf({ 'filter.commands.exclude': 'rpush' }, e), 'pass');
  assert.equal(reasonOf({ 'filter.keys.exclude': 'jobs:*' }, e), 'filter.keys.exclude');
  assert.equal(reasonOf({ 'filter.types.exclude': 'list' }, e), 'filter.types.exclude');
  assert.equal(reasonOf({ 'filter.dbs.include': 'db0' }, e), 'filter.dbs.include');
});

test('control events are never filtered', () => {
  const strictest = { 'filter.dbs.include': 'db7', 'filter.types.include': 'stream', 'filter.commands.include': 'xadd', 'filter.dbs.exclude': 'db0' };
  assert.equal(reasonOf(strictest, controlEvent(0)), 'pass');
});

test('global exclude is checked first and wins over every include; its default drops slot-migration keys', () => {
  const config = { 'filter.exclude': 'tmp:*', 'filter.keys.include': 'tmp:*', 'filter.types.exclude': 'string' };
  assert.equal(reasonOf(config, one(['set', 'tmp:1', 'v'])), 'filter.exclude');
  const byDefault = buildFilterDecider({});
  assert.equal(byDefault.active, true);
  const slotKey = one(['sadd', '_internal:slotkey:4migrate:{user}', 'user:1']);
  assert.deepEqual(byDefault(slotKey), { pass: false, reason: 'filter.exclude' });
  assert.equal(byDefault(one(['sadd', '_internal:slottag:4migrate:5', 'x'])).pass, false);
  assert.equal(byDefault(one(['set', '_internal:other', 'v'])).pass, true);
  assert.equal(buildFilterDecider({ 'filter.exclude': '' })(slotKey).pass, true, 'an empty value captures them');
});

test('exclude reasons come before include reasons, in the order db, type, command, key', () => {
  const e = one(['set', 'k', 'v'], 1);
  const all = { 'filter.dbs.exclude': 'db1', 'filter.types.exclude': 'string', 'filter.commands.exclude': 'set', 'filter.keys.exclude': 'k', 'filter.dbs.include': 'db0' };
  assert.equal(reasonOf(all, e), 'filter.dbs.exclude');
  assert.equal(reasonOf({ ...all, 'filter.dbs.exclude': '' }, e), 'filter.types.exclude');
  assert.equal(reasonOf({ 'filter.commands.exclude': 'set', 'filter.keys.exclude': 'k' }, e), 'filter.commands.exclude');
  assert.equal(reasonOf({ 'filter.keys.exclude': 'k', 'filter.dbs.include': 'db0' }, e), 'filter.keys.exclude');
  assert.equal(reasonOf({ 'filter.types.include': 'hash', 'filter.keys.include': 'x' }, e), 'filter.types.include');
});

test('decisions are shared constants: counting per reason needs no allocation per event', () => {
  const d = buildFilterDecider({ ...NO_DEFAULTS, 'filter.keys.exclude': 'a*' });
  assert.equal(d(one(['set', 'a1', 'v'])), d(one(['set', 'a2', 'v'])));
  assert.equal(d(one(['set', 'b1', 'v'])), d(one(['set', 'b2', 'v'])));
  assert.ok(Object.isFrozen(d(one(['set', 'a1', 'v']))));
});

test('buildEventFilter is the boolean form; an invalid config throws ConfigError naming the key', () => {
  const keep = buildEventFilter({ 'filter.types.exclude': 'hash' });
  assert.equal(keep(one(['hset', 'h', 'f', 'v'])), false);
  assert.equal(keep(one(['set', 'k', 'v'])), true);
  assert.throws(
    () => buildEventFilter({ 'filter.keys.include': 're:(' }),
    (err: unknown) => err instanceof ConfigError && /filter\.keys\.include/.test(err.message) && /re:\(/.test(err.message),
  );
});

test('real Pika 4.0.1 capture (binary keys included): include prefixes, exclude a binary-key regex, keyless pass', () => {
  const events = pushedItems('pika-vectors/decoded/repl').flatMap((p) =>
    binlogItemToEvents(decodeBinlogItem(p.bytes), {
      db: dbIndexFromName(p.dbName),
      sourceId: 's',
      host: '192.0.2.1',
      port: 9221,
      replicationId: null,
      profile: '4.0',
      end: p.end,
    }),
  );
  const keep = buildEventFilter({ ...NO_DEFAULTS, 'filter.keys.include': 'p2:bin*,p2:hash:*', 'filter.keys.exclude': 're:^p2:bin-tail:\\xff' });
  const bytesOf = (e: PikaEvent): Buffer => Buffer.from(e.key_b64!, 'base64');
  const expected = events.filter((e) => {
    if (e.key_b64 === null) return true;
    const key = bytesOf(e);
    const included = key.subarray(0, 6).equals(Buffer.from('p2:bin')) || key.subarray(0, 8).equals(Buffer.from('p2:hash:'));
    return included && !key.subarray(0, 13).equals(Buffer.from('p2:bin-tail:\xff', 'latin1'));
  });
  const kept = events.filter(keep);
  assert.deepEqual(kept.map((e) => e.event_id), expected.map((e) => e.event_id));
  const keptKeys = new Set(kept.map((e) => e.key_b64));
  assert.ok(keptKeys.has(Buffer.from('p2:bin:\x00\xff\x01key', 'latin1').toString('base64')), 'the binary key p2:bin:\\x00\\xff\\x01key passes');
  assert.ok(!keptKeys.has(Buffer.from('p2:bin-tail:\xff\x00', 'latin1').toString('base64')), 'p2:bin-tail:\\xff\\x00 is excluded by bytes');
  assert.ok(kept.some((e) => e.key === 'p2:hash:h1'));
  assert.ok(kept.length < events.length / 2, 'precondition: the rules drop most of the capture');
});
