import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpillLog, SpillLogCorruptError, type SpillEntry } from '../../../../../connector/pika/spill/segment-log.ts';
import { recordingLogger } from '../replication/session-helpers.ts';

const entry = (db: string, n: number, size = 40): SpillEntry => ({ db, end: { filenum: 1, offset: n * 100 }, body: Buffer.alloc(size, n % 251) });

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pc-spill-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const segments = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('spill-')).sort();

test('appended records read back in order across segments, and again after reopening (recovery keeps seqs and tails)', async (t) => {
  const dir = scratch(t);
  const logger = recordingLogger();
  const log = await SpillLog.open({ dir, maxBytes: 1 << 20, segmentBytes: 400, logger });
  for (let n = 1; n <= 30; n += 3) assert.equal(await log.append([entry('db0', n), entry('db1', n + 1), entry('db0', n + 2)]), 3);
  assert.ok(segments(dir).length > 3, 'several segments');
  const all = await log.read(0, 1000);
  assert.deepEqual(all.map((r) => r.seq), [...Array(30).keys()]);
  assert.deepEqual(all.map((r) => r.end.offset / 100), [...Array(30).keys()].map((i) => i + 1));
  assert.deepEqual((await log.read(17, 4)).map((r) => r.seq), [17, 18, 19, 20]);
  assert.deepEqual((await log.read(21, 2)).map((r) => r.seq), [21, 22]);
  assert.ok((await log.read(5, 1))[0]!.body.equals(entry('db1', 6).body));
  await log.close();

  const again = await SpillLog.open({ dir, maxBytes: 1 << 20, segmentBytes: 400, logger });
  assert.equal(again.records, 30);
  assert.deepEqual((await again.read(0, 1000)).map((r) => [r.seq, r.db, r.end.offset]), all.map((r) => [r.seq, r.db, r.end.offset]));
  assert.deepEqual(Object.fromEntries(again.tails()), { db0: { filenum: 1, offset: 3000 }, db1: { filenum: 1, offset: 2900 } });
  assert.equal(await again.append([entry('db0', 31)]), 1);
  assert.equal((await again.read(30, 10))[0]!.seq, 30);
  assert.deepEqual(logger.lines.filter((l) => l.level === 'warn'), [], 'a clean log recovers without warnings');
  await again.close();
});

test('a full log takes nothing more (back-pressure, nothing dropped); trimming committed segments makes room', async (t) => {
  const dir = scratch(t);
  const log = await SpillLog.open({ dir, maxBytes: 1000, segmentBytes: 300, logger: recordingLogger() });
  let taken = 0;
  for (let n = 1; n <= 40; n++) taken += await log.append([entry('db0', n)]);
  assert.ok(taken > 5 && taken < 40, `took ${taken} of 40`);
  assert.ok(log.bytes <= 1000, `bytes ${log.bytes} within the bound`);
  assert.equal(await log.append([entry('db0', 41)]), 0, 'full: the record is refused, not written');
  assert.equal(log.records, taken);

  // Everything up to record 7's position is in Kafka: only whole segments holding nothing newer go.
  const removed = await log.trim((_, end) => end.offset <= 700);
  assert.ok(removed > 0 && removed <= 7, `removed ${removed}`);
  assert.equal((await log.read(0, 1))[0]!.end.offset, (removed + 1) * 100, 'the oldest kept record follows the removed ones');
  assert.equal(log.records, taken - removed);
  assert.equal(await log.append([entry('db0', 41)]), 1, 'room again');
  await log.close();
});

test('trimming everything leaves an empty log that continues numbering; reading before the oldest record starts there', async (t) => {
  const dir = scratch(t);
  const log = await SpillLog.open({ dir, maxBytes: 1 << 20, segmentBytes: 200, logger: recordingLogger() });
  for (let n = 1; n <= 10; n++) await log.append([entry('db0', n)]);
  const removedSome = await log.trim((_, end) => end.offset <= 500);
  assert.ok(removedSome >= 1);
  assert.deepEqual((await log.read(0, 1)).map((r) => r.seq), [log.firstSeq]);
  assert.equal(await log.trim(() => true), 10 - removedSome);
  assert.equal(log.records, 0);
  assert.deepEqual(segments(dir), []);
  assert.equal(await log.append([entry('db0', 11)]), 1);
  assert.deepEqual((await log.read(0, 10)).map((r) => r.seq), [10]);
  await log.close();
});

test('a torn last record (crash during an append) is truncated with a log line; appends continue after it', async (t) => {
  for (const tear of ['half a frame header', 'half a payload', 'a bad CRC in the last frame']) {
    const dir = scratch(t);
    const log = await SpillLog.open({ dir, maxBytes: 1 << 20, logger: recordingLogger() });
    await log.append([entry('db0', 1), entry('db0', 2)]);
    await log.close();
    const file = join(dir, segments(dir)[0]!);
    const size = statSync(file).size;
    if (tear === 'half a frame header') appendFileSync(file, Buffer.from([60, 0, 0]));
    if (tear === 'half a payload') {
      const frame = readFileSync(file).subarray(16, 16 + 8 + 55);
      appendFileSync(file, frame.subarray(0, 30));
    }
    if (tear === 'a bad CRC in the last frame') {
      const bytes = readFileSync(file);
      bytes[bytes.length - 3] ^= 0xff;
      writeFileSync(file, bytes);
    }
    const logger = recordingLogger();
    const again = await SpillLog.open({ dir, maxBytes: 1 << 20, logger });
    const warned = logger.lines.filter((l) => l.level === 'warn');
    assert.equal(warned.length, 1, tear);
    assert.match(warned[0]!.msg, /torn last record/);
    const kept = tear === 'a bad CRC in the last frame' ? 1 : 2;
    assert.equal(again.records, kept, tear);
    assert.ok(statSync(file).size <= size, tear);
    await again.append([entry('db0', 3)]);
    assert.deepEqual((await again.read(0, 10)).map((r) => r.end.offset), [...(kept === 2 ? [100, 200] : [100]), 300], tear);
    await again.close();
  }
});

test('a CRC error before the end of the log is a clear error, never a silent skip', async (t) => {
  const dir = scratch(t);
  const log = await SpillLog.open({ dir, maxBytes: 1 << 20, segmentBytes: 300, logger: recordingLogger() });
  for (let n = 1; n <= 12; n++) await log.append([entry('db0', n)]);
  await log.close();
  const [first, , last] = segments(dir);

  // A damaged record in the last segment with valid records after it: corruption, not a torn tail.
  const lastPath = join(dir, last!);
  const lastBytes = readFileSync(lastPath);
  const damagedLast = Buffer.from(lastBytes);
  damagedLast[16 + 8 + 5] ^= 0x01;
  writeFileSync(lastPath, damagedLast);
  await assert.rejects(SpillLog.open({ dir, maxBytes: 1 << 20, logger: recordingLogger() }), (e: Error) =>
    e instanceof SpillLogCorruptError && /CRC mismatch, yet a valid record follows/.test(e.message) && e.message.includes(last!));
  writeFileSync(lastPath, lastBytes);

  // Any damage in an older segment.
  const firstPath = join(dir, first!);
  const firstBytes = readFileSync(firstPath);
  const damaged = Buffer.from(firstBytes);
  damaged[damaged.length - 2] ^= 0x01;
  writeFileSync(firstPath, damaged);
  await assert.rejects(SpillLog.open({ dir, maxBytes: 1 << 20, logger: recordingLogger() }), (e: Error) =>
    e instanceof SpillLogCorruptError && /CRC mismatch/.test(e.message) && e.message.includes(first!));
  writeFileSync(firstPath, firstBytes);

  // A missing segment in the middle.
  const middle = segments(dir)[1]!;
  rmSync(join(dir, middle));
  await assert.rejects(SpillLog.open({ dir, maxBytes: 1 << 20, logger: recordingLogger() }), /a segment is missing/);
});

test('a segment whose creation was cut short (header not complete) is removed with a log line', async (t) => {
  const dir = scratch(t);
  const log = await SpillLog.open({ dir, maxBytes: 1 << 20, segmentBytes: 100, logger: recordingLogger() });
  await log.append([entry('db0', 1), entry('db0', 2)]);
  await log.close();
  writeFileSync(join(dir, `spill-${String(2).padStart(20, '0')}.log`), Buffer.from('PKSPI'));
  const logger = recordingLogger();
  const again = await SpillLog.open({ dir, maxBytes: 1 << 20, segmentBytes: 100, logger });
  assert.match(logger.lines.find((l) => l.level === 'warn')!.msg, /creation was cut short/);
  assert.equal(again.records, 2);
  await again.close();
});
