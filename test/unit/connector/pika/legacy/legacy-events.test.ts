import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LegacyFrameDecoder } from '../../../../../connector/pika/legacy/frame-decoder.ts';
import { legacyFrameToEvents } from '../../../../../connector/pika/legacy/legacy-events.ts';
import { legacyFile } from './vectors.ts';

test('fullsync capture: every 3.0 item becomes events whose id and binlog info carry server_id 1', () => {
  const frames = new LegacyFrameDecoder().push(legacyFile('fullsync/decoded/repl/42_binlog_to_replica_10731_39574_c2s.bin'));
  const ctx = { sourceId: 'pika-legacy', host: '192.0.2.2', port: 9721 };
  const events = frames.flatMap((f) => (f.kind === 'binlog' ? legacyFrameToEvents(f, ctx) : []));
  assert.ok(events.length >= 86);
  const first = events[0]!;
  assert.equal(first.op, 'set');
  assert.equal(first.key, 'p2:str:plain');
  assert.equal(first.event_id, '0:1:0:622503:82');
  assert.equal(first.binlog!.server_id, 1);
  assert.equal(first.binlog!.term_id, 0);
  assert.deepEqual([first.binlog!.end_filenum, first.binlog!.end_offset], [0, 622588]);
  const ex = events.find((e) => e.key === 'p2:str:ex')!;
  assert.equal(ex.expire_at_ms, 1826909373 * 1000, 'pksetexat carries absolute seconds in 3.0');
  assert.equal(new Set(events.map((e) => e.event_id)).size, events.length, 'event ids are unique');
});
