import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BINLOG_ITEM_HEADER_LENGTH,
  decodeBinlogItem,
  decodeBinlogItemHeader,
  encodeBinlogItem,
} from '../../../../../connector/pika/binlog/item.ts';
import { PikaProtocolError } from '../../../../../connector/pika/protocol/errors.ts';
import { encodeRespCommand } from '../../../../../connector/pika/protocol/resp.ts';
import { pushedItems, renderArgvLikeTsv, tsvRows } from './pushed-items.ts';

const CASES = [
  { capture: 'pika-vectors/decoded/repl', vectorSet: 'pika-vectors', style: 'python' as const },
  { capture: 'pika-vectors-3.5.5/decoded/repl', vectorSet: 'pika-vectors-3.5.5', style: 'hex' as const },
];

for (const { capture, vectorSet, style } of CASES) {
  test(`${capture}: the 105 pushed items decode to exactly the commands on the master's disk`, () => {
    const rows = tsvRows(vectorSet);
    const items = pushedItems(capture);
    assert.equal(items.length, 105);
    for (const pushed of items) {
      const item = decodeBinlogItem(pushed.bytes);
      const row = rows.get(`${pushed.dbName}/${item.logicId}`);
      assert.ok(row, `${pushed.dbName} logic_id ${item.logicId} is on disk`);
      const where = `${pushed.dbName}/${item.logicId}`;
      assert.equal(item.type, 1, where);
      assert.equal(item.execTime, row.execTime, where);
      assert.equal(item.termId, row.term, where);
      assert.deepEqual(item.start, { filenum: row.filenum, offset: row.offset }, where);
      assert.equal(item.contentLength, row.contentLength, where);
      assert.equal(item.argv.length, row.argc, where);
      assert.equal(renderArgvLikeTsv(item.argv, style), row.argv, where);
      // PB term/index of the end position repeat the item's term_id/logic_id.
      assert.equal(pushed.endIndex, BigInt(item.logicId), where);
      // Re-encoding the decoded parts gives back the pushed bytes.
      assert.ok(encodeBinlogItem(item, encodeRespCommand(item.argv)).equals(pushed.bytes), where);
    }
  });
}

test('the header is 34 little-endian bytes at the documented offsets', () => {
  const header = Buffer.from(
    '0100' + '78563412' + '02000000' + '0900000000000000' + '03000000' + '0a00000000000000' + '1b000000',
    'hex',
  );
  const content = encodeRespCommand(['set', 'k', 'v']);
  assert.equal(header.length, BINLOG_ITEM_HEADER_LENGTH);
  const item = decodeBinlogItem(Buffer.concat([header, content]));
  assert.equal(item.execTime, 0x12345678);
  assert.equal(item.termId, 2);
  assert.equal(item.logicId, 9);
  assert.deepEqual(item.start, { filenum: 3, offset: 10 });
  assert.deepEqual(item.argv.map(String), ['set', 'k', 'v']);
});

test('malformed items are rejected with a reason', () => {
  const good = encodeBinlogItem({ execTime: 1, termId: 0, logicId: 1, start: { filenum: 0, offset: 0 } }, encodeRespCommand(['set', 'k', 'v']));
  const expectError = (bytes: Buffer, pattern: RegExp): void =>
    assert.throws(() => decodeBinlogItem(bytes), (err: unknown) => err instanceof PikaProtocolError && pattern.test(err.message));
  expectError(good.subarray(0, 20), /shorter than the 34-byte header/);
  const badType = Buffer.from(good);
  badType.writeUInt16LE(2, 0);
  expectError(badType, /type 2, expected 1/);
  expectError(good.subarray(0, good.length - 1), /content_length says 27 bytes but 26 follow/);
  const badResp = Buffer.from(good);
  badResp[BINLOG_ITEM_HEADER_LENGTH] = 0x2b; // '+'
  expectError(badResp, /binlog item at 0:0 \(logic_id 1\): malformed RESP command at byte 0/);
  const hugeLogicId = Buffer.from(good);
  hugeLogicId.writeBigUInt64LE(2n ** 60n, 10);
  expectError(hugeLogicId, /logic_id .* larger than 2\^53-1/);
  assert.equal(decodeBinlogItemHeader(good).contentLength, 27);
});

test('pushed BinlogSync entries: keepalives are recognised, items decode with their end position', async () => {
  const { readPushedBinlog } = await import('../../../../../connector/pika/binlog/binlog-sync.ts');
  const slot = { db_name: 'db0', slot_id: 0 };
  const keepalive = readPushedBinlog({ slot, binlog_offset: { filenum: 0, offset: 0n }, binlog: Buffer.alloc(0), session_id: 3 });
  assert.deepEqual(keepalive, { kind: 'keepalive', dbName: 'db0', sessionId: 3 });
  const bytes = encodeBinlogItem({ execTime: 5, termId: 0, logicId: 2, start: { filenum: 1, offset: 7 } }, encodeRespCommand(['del', 'k']));
  const pushed = readPushedBinlog({ slot, binlog_offset: { filenum: 1, offset: 90n, term: 0, index: 2n }, binlog: bytes, session_id: 3 });
  assert.equal(pushed.kind, 'item');
  if (pushed.kind === 'item') {
    assert.deepEqual(pushed.end, { filenum: 1, offset: 90 });
    assert.deepEqual(pushed.item.argv.map(String), ['del', 'k']);
  }
});
