import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { readDumpInfo } from '../../../../../connector/pika/dump/info-file.ts';
import { collectDump, type Decoded } from './dump-collect.ts';
import { RedisModel, type ModelEntry } from './redis-script-model.ts';

const shared = new URL('../../../../../../shared/', import.meta.url);
const v401 = fileURLToPath(new URL('pika-vectors/', shared));
const v355 = fileURLToPath(new URL('pika-vectors-3.5.5/', shared));
const v3016 = fileURLToPath(new URL('pika-vectors-3.0.16-legacy/', shared));
/** Liveness instant: the vectors were made on 2026-11-22; their TTLs are a year or more. */
const NOW = Date.UTC(2026, 10, 23);
const DAY_START = Date.UTC(2026, 10, 22);

async function expectedState(dir: string, singleKeyspace = false): Promise<Map<number, Map<string, ModelEntry>>> {
  const model = new RedisModel({ singleKeyspace });
  model.runScript(await readFile(`${dir}phase1_pre_sync.redis`, 'latin1'));
  return model.dbs;
}

/** Pika 4.0.x bug (README "bugs seen" 3, pika-protocol.md §8.1): a key with 0x00 before its end is stored cut after its last 0x00. */
function floydStoredKey(key: string): string {
  const z = key.lastIndexOf('\0');
  return z >= 0 && z < key.length - 1 ? key.slice(0, z + 1) : key;
}

/**
 * Compares decoded keys with the model. Relative TTLs must all point at one script instant `t0` (within a
 * minute); `t0` comes from the stream's auto-generated ids when there is one.
 */
function assertSameState(actual: Map<string, Decoded>, expected: Map<string, ModelEntry>, opts: { floyd: boolean }) {
  const exp = new Map([...expected].map(([k, e]) => [opts.floyd ? floydStoredKey(k) : k, { ...e, originalKey: k }]));
  assert.deepEqual([...actual.keys()].sort(), [...exp.keys()].sort(), 'key set');
  let t0: number | undefined;
  for (const d of actual.values()) if (d.type === 'stream') t0 = Number(d.value[d.value.length - 1]!.id.ms);
  for (const [key, e] of exp) {
    const d = actual.get(key)!;
    assert.equal(d.type, e.v.type, `type of ${key}`);
    if (e.ttl === null) assert.equal(d.expireAtMs, null, `no TTL on ${key}`);
    else if ('absoluteMs' in e.ttl) assert.equal(d.expireAtMs, e.ttl.absoluteMs, `TTL of ${key}`);
    else {
      assert.ok(d.expireAtMs !== null, `TTL on ${key}`);
      t0 ??= d.expireAtMs - e.ttl.relativeMs;
      assert.ok(Math.abs(d.expireAtMs - e.ttl.relativeMs - t0) < 60_000, `TTL of ${key}: ${d.expireAtMs} vs script time ${t0}`);
      assert.ok(t0 >= DAY_START && t0 < NOW, `script time ${new Date(t0).toISOString()} on the vectors' day`);
    }
    const v = e.v;
    if (v.type === 'string' && d.type === 'string') {
      if (v.hyperloglog) {
        if (opts.floyd) assert.equal(d.hyperloglog, true, `${key} flagged as HyperLogLog`);
        assert.ok(d.value.length > 0, `${key} has HyperLogLog registers`);
      } else {
        assert.equal(d.value, v.value, `value of ${key}`);
        assert.equal(d.hyperloglog, false);
      }
    } else if (v.type === 'hash' && d.type === 'hash') assert.deepEqual(d.value, v.value, `hash ${key}`);
    else if (v.type === 'list' && d.type === 'list') assert.deepEqual(d.value, v.value, `list ${key}`);
    else if (v.type === 'set' && d.type === 'set') assert.deepEqual(d.value, v.value, `set ${key}`);
    else if (v.type === 'zset' && d.type === 'zset') assert.deepEqual(d.value, v.value, `zset ${key}`);
    else if (v.type === 'stream' && d.type === 'stream') {
      assert.equal(d.value.length, v.value.length, `length of stream ${key}`);
      let prev = -1n;
      v.value.forEach((ev, i) => {
        const got = d.value[i]!;
        assert.deepEqual(got.fieldsAndValues.map((b) => Buffer.from(b).toString('latin1')), ev.fields, `entry ${i} of ${key}`);
        const gotId = got.id.ms * 2n ** 64n + got.id.seq;
        assert.ok(gotId > prev, 'stream ids ascending');
        prev = gotId;
        if (ev.id !== 'auto') assert.deepEqual(got.id, ev.id, `id of entry ${i} of ${key}`);
        else assert.ok(Math.abs(Number(got.id.ms) - t0!) < 60_000, 'auto id at script time');
      });
    } else assert.fail(`unexpected type pair for ${key}`);
  }
}

describe('Pika 4.0.1 dump (Floyd, 2 DBs × 3 instances) decodes to the state phase1_pre_sync.redis leaves', async () => {
  const expected = await expectedState(v401);
  for (const db of [0, 1]) {
    it(`db${db}`, async () => {
      const { keys, order, warnings } = await collectDump(`${v401}master_dump/20261122/db${db}`, `db${db}`, { nowMs: NOW, chunkElements: 700 });
      assertSameState(keys, expected.get(db)!, { floyd: true });
      // Instances in order 0, 1, 2, each in ascending key order.
      const instances = order.map((o) => o.instance);
      assert.deepEqual(instances, [...instances].sort());
      if (db === 0) {
        assert.equal(keys.size, 41);
        assert.equal(warnings.length, 1, warnings.join('\n'));
        assert.match(warnings[0]!, /EncodeUserKey bug/);
      } else assert.deepEqual(warnings, []);
    });
  }
  it('the big list keeps its 20000 elements in order and the big hash its 5000 fields', async () => {
    const { keys } = await collectDump(`${v401}master_dump/20261122/db0`, 'db0', { nowMs: NOW });
    const list = keys.get('p1:big:list20000');
    assert.equal(list?.type, 'list');
    assert.equal(list.value.length, 20000);
    assert.equal(list.value[12345], 'p1e12345');
    const hash = keys.get('p1:big:hash5000');
    assert.equal(hash?.type, 'hash');
    assert.equal(hash.value.get('p1f4999'), 'p1v4999');
  });
  it('skips keys that have expired at nowMs', async () => {
    const later = Date.UTC(2028, 0, 1);
    const { keys } = await collectDump(`${v401}master_dump/20261122/db0`, 'db0', { nowMs: later });
    for (const k of ['p1:str:ex', 'p1:str:px', 'p1:key:exp', 'p1:key:pexp', 'p1:str:setex', 'p1:str:psetex']) assert.equal(keys.has(k), false, k);
    assert.equal(keys.has('p1:key:expat'), true, 'EXPIREAT 2100 still live');
    assert.equal(keys.size, 35);
  });
});

describe('Pika 3.5.5 dump (Blackwidow, one RocksDB per type)', async () => {
  const expected = await expectedState(v355);
  for (const db of [0, 1]) {
    it(`db${db} decodes to the script's state without streams (3.5 does not full-sync them)`, async () => {
      const { keys, warnings } = await collectDump(`${v355}master_dump/20261122/db${db}`, `db${db}`, { nowMs: NOW });
      // p1:key:expat is absent from the master's strings DB although EXPIREAT replied 1 (int32 overflow).
      const exp = new Map([...expected.get(db)!].filter(([, e]) => e.v.type !== 'stream' && !int32Overflow(e)));
      assertSameState(keys, exp, { floyd: false });
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /streams database is not exported/);
    });
  }
});

/** Blackwidow keeps int32 seconds: EXPIREAT 4102444800 (year 2100) wraps negative and Pika 3.x drops the key. */
const int32Overflow = (e: ModelEntry) => e.ttl !== null && 'absoluteMs' in e.ttl && e.ttl.absoluteMs / 1000 > 2 ** 31 - 1;

describe('Pika 3.0.16 dump (Blackwidow, RocksDB 5.9.2, snappy-compressed blocks, one keyspace)', async () => {
  const expected = await expectedState(`${v3016}`, true);
  it("decodes to the script's state (SELECT is a no-op in 3.0)", async () => {
    const { keys, warnings } = await collectDump(`${v3016}fullsync/master_dump/20261122`, 'db0', { nowMs: NOW });
    const exp = new Map([...expected.get(0)!].filter(([, e]) => !int32Overflow(e)));
    assertSameState(keys, exp, { floyd: false });
    assert.deepEqual(warnings, []);
  });
});

describe('dump info file', () => {
  it('parses the 4.0.1 db0 info and derives snapshot_uuid as md5(info)', async () => {
    const info = await readDumpInfo(`${v401}master_dump/20261122/db0`);
    assert.deepEqual({ ...info, snapshotUuid: undefined }, {
      bgsaveSeconds: 0,
      host: '192.0.2.2',
      port: 9221,
      filenum: 0,
      offset: 754377,
      snapshotUuid: undefined,
    });
    assert.match(info.snapshotUuid, /^[0-9a-f]{32}$/);
  });
});
