// The rsync2 client's reply decoder: frames split from arbitrary socket chunks, big file replies decoded in place
// (data = views of the chunks, no gathering copy) exactly as protobufjs decodes them; anything unusual decoded the
// general way.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeFrame } from '../../../../../connector/pika/protocol/frame-decoder.ts';
import { decodeRsyncResponse, encodeRsyncResponse, RsyncStatusCode, RsyncType, type RsyncResponseInput } from '../../../../../connector/pika/protocol/messages.ts';
import { decodeReply, FrameSplitter } from '../../../../../connector/pika/rsync/reply-decoder.ts';
import { seededRandom } from '../../../../helpers/random.ts';

const fileReply = (data: Buffer, extra: Partial<RsyncResponseInput> = {}): RsyncResponseInput => ({
  type: RsyncType.kRsyncFile,
  reader_index: 3,
  snapshot_uuid: '0123456789abcdef0123456789abcdef',
  db_name: 'db0',
  slot_id: 0,
  code: RsyncStatusCode.kOk,
  file_resp: { eof: 1, count: data.length, offset: 8 * 1024 * 1024, data, checksum: '', filename: '2/000123.sst' },
  ...extra,
});

/** Cuts `bytes` at random places into 1..maxParts pieces (each piece a view, like socket chunks). */
function cut(bytes: Buffer, random: () => number, maxParts: number): Buffer[] {
  const points = Array.from({ length: Math.floor(random() * maxParts) }, () => Math.floor(random() * bytes.length)).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  return out;
}

describe('rsync2 reply decoder', () => {
  it('a big file reply split anywhere decodes like protobufjs, its data as views of the received chunks', () => {
    const random = seededRandom(20261122);
    const data = randomBytes(600 * 1024);
    const frame = encodeFrame(encodeRsyncResponse(fileReply(data)));
    const expected = decodeRsyncResponse(frame.subarray(4));
    for (let round = 0; round < 200; round++) {
      const splitter = new FrameSplitter(64 * 1024 * 1024);
      const frames = cut(frame, random, round < 100 ? 8 : 300).flatMap((c) => splitter.push(c));
      assert.equal(frames.length, 1);
      const r = decodeReply(frames[0]!);
      const { data: d, ...rest } = expected.file_resp!;
      assert.deepEqual({ ...r, file_resp: undefined }, { ...expected, file_resp: undefined });
      assert.deepEqual({ ...r.file_resp!, data: undefined, length: undefined }, { ...rest, data: undefined, length: undefined });
      assert.equal(r.file_resp!.length, d.length);
      assert.ok(Buffer.concat(r.file_resp!.data).equals(data), `round ${round}`);
      if (frames[0]!.length > 1) {
        assert.ok(r.file_resp!.data.every((v) => v.buffer === frame.buffer), 'views of the chunks, not copies');
      }
    }
  });

  it('several frames in one chunk, and small replies, come out in order', () => {
    const replies = [fileReply(Buffer.from('abc')), fileReply(randomBytes(300 * 1024), { reader_index: 1 }), fileReply(Buffer.alloc(0), { reader_index: 2 })];
    const stream = Buffer.concat(replies.map((r) => encodeFrame(encodeRsyncResponse(r))));
    const splitter = new FrameSplitter(64 * 1024 * 1024);
    const frames = [...splitter.push(stream.subarray(0, 100_000)), ...splitter.push(stream.subarray(100_000))];
    const decoded = frames.map(decodeReply);
    assert.deepEqual(decoded.map((r) => r.reader_index), [3, 1, 2]);
    assert.deepEqual(decoded.map((r) => Buffer.concat(r.file_resp!.data).length), [3, 300 * 1024, 0]);
  });

  it('fields out of the usual order, or repeated, are decoded the general way with the same result', () => {
    const data = randomBytes(400 * 1024);
    const canonical = Buffer.from(encodeRsyncResponse(fileReply(data)));
    // Move the first top-level field (type, 2 bytes: tag + value) to the end: still a valid message.
    const reordered = Buffer.concat([canonical.subarray(2), canonical.subarray(0, 2)]);
    const repeated = Buffer.concat([canonical, Buffer.from([0x10, 0x02])]); // reader_index again: the last one wins
    for (const [payload, reader] of [[reordered, 3], [repeated, 2]] as const) {
      const r = decodeReply([payload.subarray(0, 1000), payload.subarray(1000)]);
      assert.equal(r.reader_index, reader);
      assert.ok(Buffer.concat(r.file_resp!.data).equals(data));
    }
  });

  it('a truncated or garbled big reply is an error, not a short chunk', () => {
    const canonical = Buffer.from(encodeRsyncResponse(fileReply(randomBytes(400 * 1024))));
    const truncated = canonical.subarray(0, canonical.length - 5000);
    assert.throws(() => decodeReply([truncated.subarray(0, 1000), truncated.subarray(1000)]));
    assert.throws(() => new FrameSplitter(1024).push(encodeFrame(canonical)), /exceeds the limit/);
  });
});
