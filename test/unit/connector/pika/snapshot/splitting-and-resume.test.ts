import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { HashField } from '../../../../../connector/pika/dump/types.ts';
import { formatScore } from '../../../../../connector/pika/snapshot/event-builder.ts';
import { KeySplitter } from '../../../../../connector/pika/snapshot/key-splitter.ts';
import { resolveSnapshotOptions, type SnapshotOptions } from '../../../../../connector/pika/snapshot/options.ts';
import { parseSnapshotPosition } from '../../../../../connector/pika/snapshot/position.ts';
import { snapshotEvents, type SnapshotRecord } from '../../../../../connector/pika/snapshot/snapshot-events.ts';
import { parseScore, replayEvents } from './event-replay.ts';

const shared = new URL('../../../../../../shared/', import.meta.url);
const db0 = fileURLToPath(new URL('pika-vectors/master_dump/20261122/db0', shared));
const db0v355 = fileURLToPath(new URL('pika-vectors-3.5.5/master_dump/20261122/db0', shared));
const NOW = Date.UTC(2026, 10, 23);
const base: SnapshotOptions = { db: 'db0', sourceId: 'test', source: { host: '192.0.2.2', port: 9221, replication_id: null }, nowMs: NOW };

async function collect(dir: string, opts: SnapshotOptions, resumeFrom?: SnapshotRecord['offset']): Promise<SnapshotRecord[]> {
  const out: SnapshotRecord[] = [];
  for await (const r of snapshotEvents(dir, opts, resumeFrom)) out.push(r);
  return out;
}
const argBytes = (r: SnapshotRecord) => r.event.args_b64.reduce((n, a) => n + Buffer.from(a, 'base64').length, 0);

describe('splitting big collections', () => {
  it('the 5000-field hash and the 20000-element list split by elements and bytes, in order, numbered', async () => {
    // dlq: the Pika HyperLogLog strings (128 KiB of registers) are over this small limit.
    const opts = { ...base, maxElementsPerEvent: 700, maxBytesPerEvent: 4000, oversizePolicy: 'dlq' as const };
    const records = await collect(db0, opts);
    const all = replayEvents(records.map((r) => r.event));
    for (const key of ['p1:big:hash5000', 'p1:big:list20000']) {
      const parts = records.filter((r) => r.event.key === key);
      assert.ok(parts.length > 10, `${key} split (${parts.length} parts)`);
      parts.forEach((p, i) => {
        assert.equal(p.part, i + 1, 'part numbers ascend from 1');
        assert.equal(p.parts, i === parts.length - 1 ? parts.length : null, 'total known on the last part');
        assert.equal(p.position.key_done, i === parts.length - 1);
        assert.deepEqual(p.event.snapshot, { part: p.part, parts: p.parts, dump_uuid: p.position.dump_uuid }, 'the event carries its part');
        assert.ok(argBytes(p) <= 4000, 'byte limit');
        assert.ok(p.event.args_b64.length - 1 <= (key.includes('hash') ? 1400 : 700), 'element limit');
      });
    }
    const list = all.get('p1:big:list20000')!.v;
    assert.ok(list.type === 'list');
    assert.deepEqual(list.value, Array.from({ length: 20000 }, (_, i) => `p1e${String(i).padStart(5, '0')}`));
    const hash = all.get('p1:big:hash5000')!.v;
    assert.ok(hash.type === 'hash');
    assert.equal(hash.value.size, 5000);
    assert.equal(hash.value.get('p1f4999'), 'p1v4999');
    // Element limit alone: ceil(20000 / 700) parts.
    const byCount = await collect(db0, { ...base, maxElementsPerEvent: 700, maxBytesPerEvent: 1 << 20 });
    assert.deepEqual(records.filter((r) => r.dlqReason).map((r) => r.event.key).sort(), ['p1:big:200k', 'p1:hll:a', 'p1:hll:b', 'p1:hll:m']);
    assert.equal(byCount.filter((r) => r.event.key === 'p1:big:list20000').length, Math.ceil(20000 / 700));
  });

  it('a string over the byte limit: fail names the key, skip leaves it out, dlq marks the event', async () => {
    const limit = { ...base, maxBytesPerEvent: 150_000 };
    await assert.rejects(collect(db0, { ...limit, oversizePolicy: 'fail' }), (e: Error & { code: string }) => e.code === 'PIKA_SNAPSHOT_OVERSIZE' && /70313a6269673a323030/.test(e.message));
    const warnings: string[] = [];
    const skipped = await collect(db0, { ...limit, oversizePolicy: 'skip', onWarning: (m) => warnings.push(m) });
    assert.equal(skipped.some((r) => r.event.key === 'p1:big:200k'), false);
    assert.ok(warnings.some((w) => /skipped/.test(w)));
    const end = JSON.parse(Buffer.from(skipped.at(-1)!.event.args_b64[0]!, 'base64').toString());
    assert.equal(end.skipped, 1);
    const dlq = await collect(db0, { ...limit, oversizePolicy: 'dlq' });
    const marked = dlq.filter((r) => r.dlqReason);
    assert.deepEqual(marked.map((r) => r.event.key), ['p1:big:200k']);
    assert.match(marked[0]!.dlqReason!, /over snapshot.max.bytes.per.event=150000/);
  });

  it('an element over the limit goes alone into its own part (dlq) or is left out (skip)', () => {
    const field = (n: number, size: number): HashField => ({ field: Buffer.from(`f${n}`), value: Buffer.alloc(size, 120) });
    const run = (policy: 'skip' | 'dlq', resume?: { consumed: number; part: number }) => {
      const opts = resolveSnapshotOptions({ ...base, maxElementsPerEvent: 3, maxBytesPerEvent: 100, oversizePolicy: policy, onWarning: () => {} });
      let skips = 0;
      const s = new KeySplitter('hash', Buffer.from('k'), null, opts, () => skips++, resume);
      const sizes = [5, 5, 500, 5, 5, 5, 5];
      const parts = sizes.flatMap((size, i) => s.push(field(i, size)));
      const last = s.finish();
      if (last) parts.push(last);
      return { parts: parts.map((p) => ({ part: p.part, consumed: p.consumed, last: p.last, fields: (p.items as HashField[]).map((f) => f.field.toString()), dlq: !!p.dlqReason })), skips };
    };
    assert.deepEqual(run('dlq').parts, [
      { part: 1, consumed: 2, last: false, fields: ['f0', 'f1'], dlq: false },
      { part: 2, consumed: 3, last: false, fields: ['f2'], dlq: true },
      { part: 3, consumed: 6, last: false, fields: ['f3', 'f4', 'f5'], dlq: false },
      { part: 4, consumed: 7, last: true, fields: ['f6'], dlq: false },
    ]);
    const skip = run('skip');
    assert.equal(skip.skips, 1);
    assert.deepEqual(skip.parts.map((p) => p.fields), [['f0', 'f1', 'f3'], ['f4', 'f5', 'f6']]);
    // Resuming after part 2 of the dlq run (3 elements consumed) yields exactly parts 3 and 4.
    assert.deepEqual(run('dlq', { consumed: 3, part: 2 }).parts, run('dlq').parts.slice(2));
  });
});

describe('resuming a snapshot', () => {
  for (const [name, dir] of [['4.0.1 Floyd', db0], ['3.5.5 Blackwidow', db0v355]] as const) {
    it(`${name}: after any committed event yields exactly the remaining events`, async () => {
      const opts = { ...base, maxElementsPerEvent: 2500 };
      const all = await collect(dir, opts);
      // Control events, every part of the big keys, the last key of each instance, and every 8th event.
      const picks = all
        .map((r, i) => ({ r, i }))
        .filter(({ r, i }) => r.part === null || (r.parts ?? 0) !== 1 || i % 8 === 0 || all[i + 1]?.position.instance !== r.position.instance)
        .map(({ i }) => i);
      assert.ok(picks.length < 40);
      for (const i of picks) {
        const committed = JSON.parse(JSON.stringify(all[i]!.offset)); // as stored in the offsets topic
        const rest = await collect(dir, { ...opts, nowMs: Date.now() }, committed);
        assert.deepEqual(rest, all.slice(i + 1), `resume after event ${i} (${all[i]!.event.op} ${all[i]!.event.key} part ${all[i]!.part})`);
      }
    });
  }

  it('a position from another dump restarts from the beginning and says so', async () => {
    const all = await collect(db0, base);
    const foreign = { ...all[5]!.offset, dump_uuid: '0123456789abcdef0123456789abcdef' };
    const warnings: string[] = [];
    const again = await collect(db0, { ...base, onWarning: (m) => warnings.push(m) }, foreign);
    assert.equal(again.length, all.length);
    const start = JSON.parse(Buffer.from(again[0]!.event.args_b64[0]!, 'base64').toString());
    assert.equal(start.restarted_from, '0123456789abcdef0123456789abcdef');
    assert.ok(warnings.some((w) => /starts over/.test(w)));
    assert.deepEqual(again.slice(1), all.slice(1));
  });

  it('rejects offsets it did not write, with a clear message', () => {
    assert.throws(() => parseSnapshotPosition({ filenum: 1, offset: 2 }), /not a snapshot position: phase is not "snapshot"/);
    assert.throws(() => parseSnapshotPosition({ phase: 'snapshot', dump_uuid: 'x' }), /dump_uuid must be 32 lowercase hex digits/);
  });
});

describe('zset score text', () => {
  it('is the shortest text that parses back to the identical double; inf/-inf spelled as Redis does', () => {
    const tricky = [0, -0, 1, -1.5, 0.1, 1 / 3, 2 ** 53 + 2, 5e-324, 1.7976931348623157e308, -2.2250738585072014e-308, 1e21, 123456789.12345678, Infinity, -Infinity];
    for (const x of tricky) {
      const text = formatScore(x);
      assert.ok(Object.is(parseScore(text), x), `${x} → ${text}`);
      assert.ok(!/Infinity|NaN/.test(text));
    }
    assert.equal(formatScore(0.1), '0.1');
    assert.equal(formatScore(Infinity), 'inf');
    assert.equal(formatScore(-Infinity), '-inf');
    assert.throws(() => formatScore(NaN), /NaN/);
  });
});
