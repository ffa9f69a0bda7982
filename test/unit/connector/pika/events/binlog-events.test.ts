import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBinlogItem, encodeBinlogItem } from '../../../../../connector/pika/binlog/item.ts';
import {
  binlogItemToEvents,
  binlogItemToKeyedEvents,
  dbIndexFromName,
  keyText,
  type BinlogEventContext,
} from '../../../../../connector/pika/events/binlog-events.ts';
import { WARNING_PSETEX_MILLISECONDS, type PikaEvent, type PikaProfile } from '../../../../../connector/pika/events/event.ts';
import { eventKafkaKey, eventPartitionKey } from '../../../../../connector/pika/events/kafka-keys.ts';
import { PikaProtocolError } from '../../../../../connector/pika/protocol/errors.ts';
import { encodeRespCommand } from '../../../../../connector/pika/protocol/resp.ts';
import { pushedItems } from '../binlog/pushed-items.ts';
import { dataTypeOfTestKey, expectedChanges } from './redis-script.ts';

const GENERIC_OPS = new Set(['del', 'expireat', 'pexpireat', 'persist', 'flushdb']);
const YEAR_MS = 31_536_000_000;

function eventsOf(capture: string, profile: PikaProfile): PikaEvent[] {
  return pushedItems(capture).flatMap((pushed) =>
    binlogItemToEvents(decodeBinlogItem(pushed.bytes), ctx(dbIndexFromName(pushed.dbName), profile, pushed.end)),
  );
}

function ctx(db: number, profile: PikaProfile, end = { filenum: 0, offset: 1 }): BinlogEventContext {
  return { db, sourceId: 'pika-test', host: '192.0.2.2', port: 9221, replicationId: 'rid', profile, end };
}

const CASES = [
  { capture: 'pika-vectors/decoded/repl', vectorSet: 'pika-vectors', profile: '4.0' as const },
  { capture: 'pika-vectors-3.5.5/decoded/repl', vectorSet: 'pika-vectors-3.5.5', profile: '3.5' as const },
];

for (const { capture, vectorSet, profile } of CASES) {
  test(`${capture}: events match phase2_post_sync.redis after Pika's binlog rewrites`, () => {
    const events = eventsOf(capture, profile);
    const expected = expectedChanges(vectorSet, 'phase2_post_sync.redis', profile);
    for (const db of [0, 1]) {
      const got = events.filter((e) => e.db === db);
      const want = expected.filter((e) => e.db === db);
      assert.equal(got.length, want.length, `db${db}: event count`);
      want.forEach((w, i) => {
        const e = got[i]!;
        const where = `db${db} #${i} (${w.from})`;
        assert.equal(e.op, w.op, where);
        assert.equal(e.key_b64, w.key ? w.key.toString('base64') : null, where);
        assert.equal(e.data_type, GENERIC_OPS.has(w.op) ? 'generic' : dataTypeOfTestKey(w.key!), where);
        assert.equal(e.event_type, 'binlog');
        assert.deepEqual(JSON.parse(JSON.stringify(e)), e, `${where}: JSON round trip`);
      });
    }
    const ids = events.map((e) => e.event_id);
    assert.equal(new Set(ids).size, ids.length, 'event ids are unique');
  });

  test(`${capture}: TTLs become absolute expire_at_ms`, () => {
    const events = eventsOf(capture, profile);
    const byKey = (key: string): PikaEvent[] => events.filter((e) => e.key === key);
    const near = (e: PikaEvent, ms: number, what: string): void => {
      assert.ok(e.expire_at_ms !== null && Math.abs(e.expire_at_ms - ms) <= 2000, `${what}: ${e.expire_at_ms} ≈ ${ms}`);
    };
    for (const key of ['p2:str:ex', 'p2:str:px', 'p2:str:setex']) {
      const [e] = byKey(key);
      near(e!, e!.ts_ms + YEAR_MS, key);
      assert.deepEqual(e!.warnings, []);
    }
    const pexpire = byKey('p2:key:pexp').find((e) => e.data_type === 'generic')!;
    near(pexpire, pexpire.ts_ms + YEAR_MS, 'PEXPIRE');
    assert.equal(byKey('p2:key:expat').find((e) => e.op === 'expireat')!.expire_at_ms, 4102444800000);
    const counter = byKey('p2:str:counter').filter((e) => e.op === 'pksetexat');
    assert.ok(counter.length === 2 && counter.every((e) => e.expire_at_ms === null), 'INCR: pksetexat k 0 = no TTL');
    assert.equal(byKey('p2:str:plain')[0]!.expire_at_ms, null);
  });
}

test('PSETEX: 4.0.1 writes milliseconds (corrected and flagged), 3.5.5 writes seconds', () => {
  const psetex = (capture: string, profile: PikaProfile): PikaEvent =>
    eventsOf(capture, profile).find((e) => e.key === 'p3:str:psetex')!;
  const v40 = psetex('pika-vectors/decoded/repl_psetex_stall', '4.0');
  assert.equal(v40.op, 'pksetexat');
  assert.equal(v40.expire_at_ms, 1826906945812);
  assert.deepEqual(v40.warnings, [WARNING_PSETEX_MILLISECONDS]);
  assert.ok(Math.abs(v40.expire_at_ms! - (v40.ts_ms + YEAR_MS)) <= 2000);
  const v35 = psetex('pika-vectors-3.5.5/decoded/repl_phase3_psetex', '3.5');
  assert.equal(v35.expire_at_ms, 1826907814000);
  assert.deepEqual(v35.warnings, []);
});

test('binary keys: key is null, key_b64 exact, the event is valid JSON', () => {
  const events = eventsOf('pika-vectors/decoded/repl', '4.0');
  const exact = Buffer.from('p2:bin:\x00\xff\x01key', 'latin1');
  const e = events.find((ev) => ev.key_b64 === exact.toString('base64'))!;
  assert.ok(e, 'the 13-byte binary key is in the stream');
  assert.equal(e.key, null);
  const parsed = JSON.parse(JSON.stringify(e)) as PikaEvent;
  assert.ok(Buffer.from(parsed.key_b64!, 'base64').equals(exact));
  assert.ok(Buffer.from(parsed.args_b64[1]!, 'base64').equals(Buffer.from('val\x00\xff\r\nend', 'latin1')));
  assert.ok(eventKafkaKey(e).equals(Buffer.concat([Buffer.from('0:string:'), exact])));
});

test('event fields of one item: ids, positions, source, args and raw RESP', () => {
  const content = encodeRespCommand(['HSET', 'h', 'f', 'v']);
  const item = decodeBinlogItem(encodeBinlogItem({ execTime: 1700000000, termId: 0, logicId: 42, start: { filenum: 3, offset: 99 } }, content));
  const [e] = binlogItemToEvents(item, ctx(2, '4.0', { filenum: 3, offset: 150 }));
  assert.deepEqual(e, {
    event_type: 'binlog',
    op: 'hset',
    data_type: 'hash',
    db: 2,
    slot: null,
    key: 'h',
    key_b64: Buffer.from('h').toString('base64'),
    args_b64: ['h', 'f', 'v'].map((s) => Buffer.from(s).toString('base64')),
    raw_resp_b64: content.toString('base64'),
    ts_ms: 1700000000000,
    event_id: '2:0:3:99:42',
    source_id: 'pika-test',
    binlog: { filenum: 3, offset: 99, end_filenum: 3, end_offset: 150, logic_id: 42, server_id: null, term_id: 0 },
    source: { host: '192.0.2.2', port: 9221, replication_id: 'rid' },
    expire_at_ms: null,
    warnings: [],
  });
});

const itemOf = (...argv: string[]) =>
  decodeBinlogItem(encodeBinlogItem({ execTime: 1700000000, termId: 0, logicId: 7, start: { filenum: 0, offset: 10 } }, encodeRespCommand(argv)));

test('raw_resp_b64 can be left out', () => {
  const [e] = binlogItemToEvents(itemOf('set', 'k', 'v'), { ...ctx(0, '4.0'), includeRawResp: false });
  assert.equal(e!.raw_resp_b64, null);
  assert.equal(e!.args_b64.length, 2);
});

test('multi-key commands become one event per key with indexed ids; keyless commands have no key', () => {
  const dels = binlogItemToEvents(itemOf('DEL', 'a', 'b'), ctx(0, '4.0'));
  assert.deepEqual(dels.map((e) => [e.event_id, e.key, e.op, e.data_type]), [
    ['0:0:0:10:7:0', 'a', 'del', 'generic'],
    ['0:0:0:10:7:1', 'b', 'del', 'generic'],
  ]);
  const mset = binlogItemToEvents(itemOf('mset', 'k1', 'v1', 'k2', 'v2'), ctx(0, '4.0'));
  assert.deepEqual(mset.map((e) => e.args_b64.map((a) => Buffer.from(a, 'base64').toString())), [['k1', 'v1'], ['k2', 'v2']]);
  const [flush] = binlogItemToEvents(itemOf('flushdb'), ctx(5, '4.0'));
  assert.equal(flush!.key, null);
  assert.equal(flush!.key_b64, null);
  assert.equal(eventKafkaKey(flush!).toString(), '5');
  assert.equal(eventPartitionKey(flush!).toString(), '5');
});

test('every event of one key gets the same partition key whatever its data type', () => {
  const set = binlogItemToEvents(itemOf('set', 'k', 'v'), ctx(1, '4.0'))[0]!;
  const del = binlogItemToEvents(itemOf('del', 'k'), ctx(1, '4.0'))[0]!;
  assert.notDeepEqual(eventKafkaKey(set), eventKafkaKey(del));
  assert.equal(eventKafkaKey(set).toString(), '1:string:k');
  assert.ok(eventPartitionKey(set).equals(eventPartitionKey(del)));
  assert.equal(eventPartitionKey(set).toString(), '1:k');
});

test('Pika-internal padding/dummy items produce no events; unknown or malformed commands are errors', () => {
  assert.deepEqual(binlogItemToEvents(itemOf('padding', '****'), ctx(0, '4.0')), []);
  assert.deepEqual(binlogItemToEvents(itemOf('dummy'), ctx(0, '4.0')), []);
  const rejects = (argv: string[], pattern: RegExp): void =>
    assert.throws(() => binlogItemToEvents(itemOf(...argv), ctx(0, '4.0')), (err: unknown) => err instanceof PikaProtocolError && pattern.test(err.message));
  rejects(['frobnicate', 'k'], /binlog item at 0:10 \(logic_id 7\): unknown command "frobnicate"/);
  rejects(['hset', 'k', 'f'], /hset needs at least 3 arguments, got 2/);
  rejects(['pksetexat', 'k', 'soon', 'v'], /pksetexat argument 2: expected an integer, got "soon"/);
  rejects(['mset', 'k1', 'v1', 'k2'], /mset needs key\/value pairs/);
  rejects(['set', 'k', 'v', 'EX'], /option ex has no value/);
});

test('pksetexat edge values and relative TTLs', () => {
  const expiry = (profile: PikaProfile, ...argv: string[]) => binlogItemToEvents(itemOf(...argv), ctx(0, profile))[0]!;
  assert.equal(expiry('4.0', 'pksetexat', 'k', '-1', 'v').expire_at_ms, 0, 'negative = already expired');
  assert.equal(expiry('4.0', 'pksetexat', 'k', '1800000000', 'v').expire_at_ms, 1800000000000);
  assert.equal(expiry('3.5', 'pksetexat', 'k', '1800000000000', 'v').expire_at_ms, 1800000000000000, '3.5: always seconds');
  const setex = expiry('4.0', 'SET', 'k', 'v', 'PX', '1500');
  assert.equal(setex.expire_at_ms, 1700000001500);
  assert.deepEqual(setex.warnings, ['relative-ttl-from-exec-time']);
  assert.equal(expiry('4.0', 'pexpireat', 'k', '1700000000123').expire_at_ms, 1700000000123);
});

test('DB names map to indexes; anything else is an error', () => {
  assert.equal(dbIndexFromName('db0'), 0);
  assert.equal(dbIndexFromName('db15'), 15);
  assert.throws(() => dbIndexFromName('db'), /unexpected DB name/);
  assert.throws(() => dbIndexFromName('0'), /unexpected DB name/);
});

test('a key starting with a UTF-8 byte-order mark keeps those bytes in key', () => {
  const key = Buffer.from([0xef, 0xbb, 0xbf, 0x61]);
  const item = decodeBinlogItem(encodeBinlogItem({ execTime: 1700000000, termId: 0, logicId: 1, start: { filenum: 0, offset: 0 } }, encodeRespCommand([Buffer.from('set'), key, Buffer.from('v')])));
  const [e] = binlogItemToEvents(item, ctx(0, '4.0'));
  assert.deepEqual(Buffer.from(e!.key!, 'utf8'), key);
});

test('key text: ASCII, multi-byte UTF-8 and a leading BOM read as text; invalid UTF-8 is null', () => {
  assert.equal(keyText(Buffer.from('user:42')), 'user:42');
  assert.equal(keyText(Buffer.from('clé:ключ:键')), 'clé:ключ:键');
  assert.equal(keyText(Buffer.from('\ufeffbom')), '\ufeffbom');
  assert.equal(keyText(Buffer.from('a'.repeat(300) + 'é')), 'a'.repeat(300) + 'é');
  assert.equal(keyText(Buffer.from('a'.repeat(300))), 'a'.repeat(300));
  assert.equal(keyText(Buffer.from([0x6b, 0xff])), null);
  assert.equal(keyText(Buffer.from([0xc3])), null);
  assert.equal(keyText(new Uint8Array([0x6b, 0x31])), 'k1');
});

test('keyed events carry each event\'s exact key bytes; the Kafka keys made from them equal those made from key_b64', () => {
  const binary = Buffer.from([0x00, 0xff, 0x6b]);
  const item = decodeBinlogItem(encodeBinlogItem({ execTime: 1700000000, termId: 0, logicId: 7, start: { filenum: 0, offset: 10 } },
    encodeRespCommand(['DEL', 'a', binary, 'c'])));
  const keyed = binlogItemToKeyedEvents(item, ctx(1, '4.0'));
  assert.deepEqual(keyed.map((k) => k.event), binlogItemToEvents(item, ctx(1, '4.0')));
  assert.deepEqual(keyed.map((k) => k.key), [Buffer.from('a'), binary, Buffer.from('c')]);
  for (const { event, key } of keyed) {
    assert.ok(eventKafkaKey(event, key!).equals(eventKafkaKey(event)));
    assert.ok(eventPartitionKey(event, key!).equals(eventPartitionKey(event)));
  }
  assert.ok(eventPartitionKey(keyed[1]!.event, keyed[1]!.key!).equals(Buffer.concat([Buffer.from('1:'), binary])));
  const [flush] = binlogItemToKeyedEvents(itemOf('flushdb'), ctx(5, '4.0'));
  assert.equal(flush!.key, null);
});
