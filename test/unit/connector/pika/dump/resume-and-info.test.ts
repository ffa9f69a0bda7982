import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { readDbDump } from '../../../../../connector/pika/dump/dump-reader.ts';
import { parseDumpInfo } from '../../../../../connector/pika/dump/info-file.ts';
import type { DumpRecord } from '../../../../../connector/pika/dump/types.ts';

const shared = new URL('../../../../../../shared/', import.meta.url);
const NOW = Date.UTC(2026, 10, 23);

/** One line per record: enough to compare two runs exactly. */
async function lines(dir: string, after?: { instance: string; key: Uint8Array }): Promise<string[]> {
  const out: string[] = [];
  const s = (b: Uint8Array) => Buffer.from(b).toString('hex');
  for await (const r of readDbDump(dir, 'db0', { nowMs: NOW, after, chunkElements: 1000 }) as AsyncGenerator<DumpRecord>) {
    const head = `${r.kind} ${r.pos.instance} ${s(r.pos.key)}`;
    if (r.kind === 'string') out.push(`${head} ${s(r.value)} ${r.expireAtMs}`);
    else if (r.kind === 'elements') out.push(`${head} ${r.items.length}`);
    else out.push(head);
  }
  return out;
}

for (const [name, dir] of [
  ['4.0.1 Floyd', fileURLToPath(new URL('pika-vectors/master_dump/20261122/db0', shared))],
  ['3.5.5 Blackwidow', fileURLToPath(new URL('pika-vectors-3.5.5/master_dump/20261122/db0', shared))],
] as const) {
  describe(`resuming a ${name} dump after a key`, () => {
    it('yields exactly the records after that key, for keys in every instance', async () => {
      const all = await lines(dir);
      const starts = all.map((l, i) => ({ l, i })).filter(({ l }) => l.startsWith('string') || l.startsWith('key-start'));
      // First key, last key, and the last key of each instance (the resume then continues with the next one).
      const picks = new Set([starts[0]!, starts[starts.length - 1]!]);
      for (let j = 0; j + 1 < starts.length; j++) if (starts[j]!.l.split(' ')[1] !== starts[j + 1]!.l.split(' ')[1]) picks.add(starts[j]!);
      picks.add(starts[Math.floor(starts.length / 2)]!);
      for (const { l, i } of picks) {
        const [kind, instance, keyHex] = l.split(' ');
        let end = i;
        if (kind === 'key-start') while (!all[end]!.startsWith('key-end')) end++;
        const resumed = await lines(dir, { instance: instance!, key: Buffer.from(keyHex!, 'hex') });
        assert.deepEqual(resumed, all.slice(end + 1), `after ${instance}/${Buffer.from(keyHex!, 'hex').toString('latin1')}`);
      }
    });
  });
}

describe('resume position validation', () => {
  it('an instance the dump does not have is an error', async () => {
    const dir = fileURLToPath(new URL('pika-vectors/master_dump/20261122/db0', shared));
    await assert.rejects(lines(dir, { instance: 'hashes', key: Buffer.from('x') }), /names instance "hashes", which this dump does not have \(0, 1, 2\)/);
  });
});

describe('parseDumpInfo', () => {
  it('parses the 5-line form and the 7-line form with term and index', () => {
    const five = parseDumpInfo(Buffer.from('3s\n10.0.0.1\n9221\n17152\n81558951\n'));
    assert.equal(five.filenum, 17152);
    assert.equal(five.offset, 81558951);
    assert.equal(five.snapshotUuid, '0c3d7913b0144bd2a1cea95ec8b9157b');
    const seven = parseDumpInfo(Buffer.from('0s\nhost\n1\n2\n3\n4\n5\n'));
    assert.deepEqual([seven.term, seven.index], [4, 5]);
  });
  it('snapshot uuid is the md5 of the exact bytes (4.0.1 db1/info)', () => {
    const a = parseDumpInfo(Buffer.from('0s\n192.0.2.2\n9221\n0\n542\n'));
    assert.equal(a.snapshotUuid, 'b45f49da288506771641fa5d2fb6bd6c');
    const b = parseDumpInfo(Buffer.from('1s\n192.0.2.2\n9221\n0\n542\n'));
    assert.notEqual(a.snapshotUuid, b.snapshotUuid);
  });
  it('rejects malformed files with a clear message', () => {
    assert.throws(() => parseDumpInfo(Buffer.from('0s\nhost\n9221\n0\n'), 'db0/info'), /db0\/info: has 4 lines, expected 5 or 7/);
    assert.throws(() => parseDumpInfo(Buffer.from('zero\nhost\n1\n2\n3\n')), /line 1 "zero" is not "<seconds>s"/);
    assert.throws(() => parseDumpInfo(Buffer.from('0s\nhost\n1\n-2\n3\n')), /line 4 \(binlog filenum\) "-2" is not a non-negative integer/);
    assert.throws(() => parseDumpInfo(Buffer.from('0s\nhost\n70000\n2\n3\n')), /port 70000 out of range/);
  });
});

describe('listDumpDbs', () => {
  it('lists db0, db1 of a 4.x/3.5 dump and treats a 3.0 dump as one keyspace', async () => {
    const { listDumpDbs } = await import('../../../../../connector/pika/dump/index.ts');
    const d401 = fileURLToPath(new URL('pika-vectors/master_dump/20261122', shared));
    assert.deepEqual((await listDumpDbs(d401)).map((d: { db: string }) => d.db), ['db0', 'db1']);
    const d30 = fileURLToPath(new URL('pika-vectors-3.0.16-legacy/fullsync/master_dump/20261122', shared));
    assert.deepEqual(await listDumpDbs(d30), [{ db: 'db0', dir: d30 }]);
    await assert.rejects(listDumpDbs(fileURLToPath(new URL('pika-vectors/info', shared))), /neither a Floyd .* nor a Blackwidow/);
  });
});
