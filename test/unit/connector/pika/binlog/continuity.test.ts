import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinlogContinuity, BinlogGapError } from '../../../../../connector/pika/binlog/continuity.ts';
import { decodeBinlogItemHeader } from '../../../../../connector/pika/binlog/item.ts';
import { pushedItems, trySyncOffsets } from './pushed-items.ts';

for (const capture of ['pika-vectors/decoded/repl', 'pika-vectors-3.5.5/decoded/repl']) {
  test(`${capture}: the pushed stream of each DB is continuous from the TrySync offset, across the file rotation`, () => {
    const checkers = new Map<string, BinlogContinuity>();
    for (const [db, offset] of trySyncOffsets(capture)) checkers.set(db, new BinlogContinuity(db, offset));
    let rotations = 0;
    for (const pushed of pushedItems(capture)) {
      const header = decodeBinlogItemHeader(pushed.bytes);
      if (pushed.end.filenum !== header.start.filenum) rotations++;
      checkers.get(pushed.dbName)!.accept(header.start, pushed.end);
    }
    assert.equal(rotations, 1, 'the capture contains the write2file0 -> write2file1 rotation');
    assert.deepEqual(checkers.get('db1')!.position, { filenum: 0, offset: 1143 });
  });
}

test('a lost item is reported with both positions', () => {
  const stream = new BinlogContinuity('db0', { filenum: 0, offset: 100 });
  stream.accept({ filenum: 0, offset: 100 }, { filenum: 0, offset: 180 });
  assert.throws(
    () => stream.accept({ filenum: 0, offset: 260 }, { filenum: 0, offset: 300 }),
    (err: unknown) =>
      err instanceof BinlogGapError &&
      /db0: .*expected the item to start at 0:180 .* but it starts at 0:260/.test(err.message) &&
      err.expected.offset === 180 &&
      err.actual.offset === 260,
  );
});

test('the first item must start at the resume offset; without one any start is accepted', () => {
  assert.throws(() => new BinlogContinuity('db0', { filenum: 2, offset: 0 }).accept({ filenum: 2, offset: 5 }, { filenum: 2, offset: 9 }), BinlogGapError);
  const free = new BinlogContinuity('db0');
  free.accept({ filenum: 7, offset: 70 }, { filenum: 7, offset: 90 });
  assert.deepEqual(free.position, { filenum: 7, offset: 90 });
});

test('rotation: an item naming the old file after an end reported as (f+1):0 is accepted', () => {
  const stream = new BinlogContinuity('db0', { filenum: 1, offset: 0 });
  stream.accept({ filenum: 0, offset: 1098428 }, { filenum: 1, offset: 130091 });
  assert.deepEqual(stream.position, { filenum: 1, offset: 130091 });
});

test('an end position that does not follow the start is rejected', () => {
  const stream = new BinlogContinuity('db0');
  assert.throws(() => stream.accept({ filenum: 0, offset: 50 }, { filenum: 0, offset: 50 }), /end position does not follow/);
  assert.throws(() => stream.accept({ filenum: 0, offset: 50 }, { filenum: 3, offset: 10 }), /end position does not follow/);
});
