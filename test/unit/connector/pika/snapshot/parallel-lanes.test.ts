import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SnapshotOptions } from '../../../../../connector/pika/snapshot/options.ts';
import { parseLanes } from '../../../../../connector/pika/snapshot/position.ts';
import { snapshotEvents, type SnapshotRecord } from '../../../../../connector/pika/snapshot/snapshot-events.ts';

// The worker-thread path (decodeThreads > 1): the same events as decoding in this thread, each lane's keys and
// each key's parts in order, and a resume after any event of an interleaved run emits exactly what was missing.
const shared = new URL('../../../../../../shared/', import.meta.url);
const db0 = fileURLToPath(new URL('pika-vectors/master_dump/20261122/db0', shared));
const db0v355 = fileURLToPath(new URL('pika-vectors-3.5.5/master_dump/20261122/db0', shared));
const NOW = Date.UTC(2026, 10, 23);
const base: SnapshotOptions = { db: 'db0', sourceId: 'test', source: { host: '192.0.2.2', port: 9221, replication_id: null }, nowMs: NOW, maxElementsPerEvent: 700 };
const inThread: SnapshotOptions = { ...base, decodeThreads: 1 };
// laneBytes: cut each instance with more than 20 KB of meta SSTs into key ranges (up to 4), as big dumps are.
const workers: SnapshotOptions = { ...base, decodeThreads: 2, minParallelBytes: 0, laneBytes: 20_000 };

async function collect(dir: string, opts: SnapshotOptions, resumeFrom?: SnapshotRecord['offset']): Promise<SnapshotRecord[]> {
  const out: SnapshotRecord[] = [];
  for await (const r of snapshotEvents(dir, opts, resumeFrom)) out.push(r);
  return out;
}

/** What a key event says (everything but its sequence number and position). */
const content = (r: SnapshotRecord): string => {
  const { event_id: _id, ...e } = r.event;
  return JSON.stringify(e);
};
const keyEvents = (rs: SnapshotRecord[]) => rs.filter((r) => r.part !== null);
/** Key events grouped by `by` (instance or key), each group in emission order. */
function grouped(rs: SnapshotRecord[], by: (r: SnapshotRecord) => string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of keyEvents(rs)) {
    const g = by(r);
    if (!m.has(g)) m.set(g, []);
    m.get(g)!.push(content(r));
  }
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
const byInstance = (r: SnapshotRecord) => r.position.instance!;
const byKey = (r: SnapshotRecord) => `${r.position.instance}/${r.event.key_b64}`;

describe('decoding lanes in worker threads', () => {
  for (const [name, dir] of [['4.0.1 Floyd', db0], ['3.5.5 Blackwidow', db0v355]] as const) {
    it(`${name}: the same events as in this thread, lanes interleaved but each key's parts in order`, async () => {
      const one = await collect(dir, inThread);
      const ranges = await collect(dir, { ...workers, decodeThreads: 1 });
      const many = await collect(dir, workers);
      assert.deepEqual(grouped(ranges, byInstance), grouped(one, byInstance), 'key ranges read in order = the whole instance in order');
      assert.equal(many.length, one.length);
      assert.deepEqual(grouped(many, byKey), grouped(one, byKey), 'every key has the same events, parts in order');
      assert.equal(many[0]!.event.op, 'snapshot-start');
      assert.equal(many.at(-1)!.event.op, 'snapshot-end');
      assert.deepEqual(many.at(-1)!.event.args_b64, one.at(-1)!.event.args_b64, 'same counts in snapshot-end');
      many.forEach((r, i) => assert.equal(r.position.seq, i + 1, 'sequence numbers follow the emission order'));
      const lanes = parseLanes(many.at(-1)!.position.lanes!);
      assert.ok([...lanes.values()].every((s) => s === 'done'), 'every lane is done at the end');
      assert.ok([...lanes.keys()].some((id) => id.includes(':')), `some instance is cut into key ranges (${[...lanes.keys()]})`);
    });

    it(`${name}: resuming an interleaved run after any event emits exactly the missing events`, async () => {
      const all = await collect(dir, workers);
      const picks = all.map((_, i) => i).filter((i) => (i % Math.ceil(all.length / 8) === 5 || i === all.length - 2) && i < all.length - 1);
      for (const i of picks) {
        const committed = JSON.parse(JSON.stringify(all[i]!.offset)); // as stored in the offsets topic
        const rest = await collect(dir, workers, committed);
        const before = keyEvents(all.slice(0, i + 1)).map(content);
        const after = keyEvents(rest).map(content);
        assert.equal(new Set([...before, ...after]).size, before.length + after.length, `no event twice (resume after event ${i})`);
        assert.deepEqual([...before, ...after].sort(), keyEvents(all).map(content).sort(), `nothing missing (resume after event ${i})`);
        assert.equal(rest[0]?.position.seq, i + 2, 'sequence numbers continue');
        assert.equal(rest.at(-1)!.event.op, 'snapshot-end');
      }
    });
  }

  it('an offset written before lanes existed (no lanes field) resumes as it did, also into key-range lanes', async () => {
    const all = await collect(db0, inThread);
    for (const i of [3, Math.floor(all.length / 2), all.length - 3]) {
      const { lanes: _lanes, ...old } = JSON.parse(JSON.stringify(all[i]!.offset));
      const rest = await collect(db0, workers, old);
      assert.deepEqual(keyEvents(rest).map(content).sort(), keyEvents(all.slice(i + 1)).map(content).sort(), `resume after event ${i}`);
    }
  });

  it('a damaged SST read by a worker fails with an error naming the file', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'lanes-'));
    try {
      const copy = join(tmp, 'db0');
      await cp(db0, copy, { recursive: true });
      const dir1 = join(copy, '1');
      const ssts = [];
      for (const n of await readdir(dir1)) if (n.endsWith('.sst')) ssts.push({ n, size: (await stat(join(dir1, n))).size });
      const biggest = ssts.sort((a, b) => b.size - a.size)[0]!;
      await truncate(join(dir1, biggest.n), Math.floor(biggest.size / 2));
      await assert.rejects(collect(copy, workers), (e: Error) => e.message.includes(biggest.n));
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
