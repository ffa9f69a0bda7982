import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBinlogItem, encodeBinlogItem } from '../../../../../connector/pika/binlog/item.ts';
import { decodeSpilledItem, encodeSpilledItem, type SpilledItem } from '../../../../../connector/pika/spill/spill-record.ts';

const item = decodeBinlogItem(encodeBinlogItem({ execTime: 1_700_000_000, termId: 3, logicId: 77, start: { filenum: 4, offset: 900 } },
  Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n')));

test('a spilled item keeps everything its events and offset are built from', () => {
  for (const replicationId of ['a1b2c3', null]) {
    const spilled: SpilledItem = { db: 'db1', item, end: { filenum: 4, offset: 950, term: 3, index: 77 }, replicationId, profile: '3.5' };
    const back = decodeSpilledItem(encodeSpilledItem(spilled), 'test');
    assert.deepEqual({ ...back, item: { ...back.item, content: back.item.content.toString(), argv: back.item.argv.map(String) } },
      { ...spilled, item: { ...item, content: item.content.toString(), argv: ['SET', 'k', 'v'] } });
  }
});

test('a spilled record of an unknown version is an error naming the record', () => {
  const entry = encodeSpilledItem({ db: 'db0', item, end: { filenum: 4, offset: 950, term: 0, index: 1 }, replicationId: null, profile: '4.0' });
  entry.body[0] = 9;
  assert.throws(() => decodeSpilledItem(entry, 'seq 12'), /seq 12 \(db0 4:950\) is unreadable: record version 9/);
});
