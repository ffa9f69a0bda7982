import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_MAX_FRAME_LENGTH,
  FrameDecoder,
  encodeFrame,
  encodeFrameHeader,
} from '../../../../../connector/pika/protocol/frame-decoder.ts';
import { PikaProtocolError } from '../../../../../connector/pika/protocol/errors.ts';
import { CAPTURES, framePayload, loadCapture, readStream } from './vector-frames.ts';
import { seededRandom as rng } from '../../../../helpers/random.ts';


function decodeInChunks(stream: Buffer, sizes: () => number): Buffer[] {
  const decoder = new FrameDecoder();
  const frames: Buffer[] = [];
  for (let pos = 0; pos < stream.length; ) {
    const size = Math.max(1, Math.min(stream.length - pos, sizes()));
    frames.push(...decoder.push(stream.subarray(pos, pos + size)));
    pos += size;
  }
  decoder.end();
  return frames;
}

for (const name of CAPTURES) {
  test(`${name}: every stream splits into exactly the indexed frames, whatever the chunking`, () => {
    const capture = loadCapture(name);
    const files = [...new Set(capture.frames.map((f) => f.stream_file))];
    for (const file of files) {
      const indexed = capture.frames.filter((f) => f.stream_file === file);
      let stream = readStream(capture, file);
      const last = indexed[indexed.length - 1]!;
      const complete = last.stream_offset + 4 + last.len <= stream.length;
      // The stall captures start/end mid-connection: decode up to the end of the last complete frame.
      const usable = complete ? indexed : indexed.slice(0, -1);
      if (usable.length === 0) continue;
      const endOfLast = usable[usable.length - 1]!.stream_offset + 4 + usable[usable.length - 1]!.len;
      stream = stream.subarray(usable[0]!.stream_offset, endOfLast);
      const random = rng(file.length * 7919);
      const chunkings: Array<[string, () => number]> = [
        ['whole stream', () => stream.length],
        ['random chunks up to 64 KiB', () => 1 + Math.floor(random() * 65536)],
        ['random chunks up to 7 bytes', () => 1 + Math.floor(random() * 7)],
      ];
      for (const [label, sizes] of chunkings) {
        if (label.includes('7 bytes') && stream.length > 200_000) continue; // keep the test quick
        const frames = decodeInChunks(stream, sizes);
        assert.equal(frames.length, usable.length, `${file} (${label}): frame count`);
        frames.forEach((frame, i) => {
          assert.ok(frame.equals(framePayload(capture, usable[i]!)), `${file} (${label}): frame ${i} bytes`);
        });
      }
    }
  });
}

test('a frame split at every byte position, and two frames back to back split anywhere, decode intact', () => {
  const capture = loadCapture('pika-vectors/decoded/repl');
  const picks = [
    capture.frames.find((f) => f.dir === 'c2s' && f.type === 'kMetaSync')!,
    capture.frames.find((f) => f.dir === 's2c' && f.type === 'kBinlogSync' && f.len > 29)!,
  ];
  const payloads = picks.map((f) => framePayload(capture, f));
  const pair = Buffer.concat(payloads.map((p) => encodeFrame(p)));
  for (let cut = 0; cut <= pair.length; cut++) {
    const decoder = new FrameDecoder();
    const out = [...decoder.push(pair.subarray(0, cut)), ...decoder.push(pair.subarray(cut))];
    assert.equal(out.length, 2, `cut at ${cut}`);
    assert.ok(out[0]!.equals(payloads[0]!) && out[1]!.equals(payloads[1]!), `cut at ${cut}`);
    assert.ok(decoder.isIdle);
  }
  const oneByOne = new FrameDecoder();
  const out: Buffer[] = [];
  for (const byte of pair) out.push(...oneByOne.push(Buffer.of(byte)));
  assert.deepEqual(out, payloads);
});

test('zero-length frames and a frame ending exactly at a chunk boundary', () => {
  const decoder = new FrameDecoder();
  assert.deepEqual(decoder.push(Buffer.from('00000000', 'hex')), [Buffer.alloc(0)]);
  assert.deepEqual(decoder.push(Buffer.from('0000', 'hex')), []);
  assert.deepEqual(decoder.push(Buffer.from('0002', 'hex')), []);
  assert.deepEqual(decoder.push(Buffer.from('abcd00000000', 'hex')), [Buffer.from('abcd', 'hex'), Buffer.alloc(0)]);
  assert.ok(decoder.isIdle);
});

test('a payload inside one chunk is returned without copying; a split payload is assembled once', () => {
  const chunk = encodeFrame(Buffer.from('hello'));
  const [view] = new FrameDecoder().push(chunk);
  assert.equal(view!.buffer, chunk.buffer);
  const decoder = new FrameDecoder();
  decoder.push(chunk.subarray(0, 6));
  const [joined] = decoder.push(chunk.subarray(6));
  assert.equal(joined!.toString(), 'hello');
  assert.equal(joined!.length, 5);
});

test('the 512 MiB limit: a 512 MiB prefix is accepted, one byte more is a clear error', () => {
  const ok = new FrameDecoder();
  assert.deepEqual(ok.push(encodeFrameHeader(DEFAULT_MAX_FRAME_LENGTH)), []);
  assert.equal(ok.bufferedBytes, 0);
  const tooBig = new FrameDecoder();
  assert.throws(
    () => tooBig.push(encodeFrameHeader(DEFAULT_MAX_FRAME_LENGTH + 1)),
    (err: unknown) => err instanceof PikaProtocolError && /exceeds the limit of 536870912 bytes/.test(err.message),
  );
  assert.throws(() => tooBig.push(Buffer.of(1)), PikaProtocolError, 'stays failed');
  const small = new FrameDecoder({ maxFrameLength: 10 });
  assert.throws(() => small.push(Buffer.from('0000000b', 'hex')), /frame length 11 exceeds the limit of 10/);
});

test('a stream that ends inside a frame is reported, not dropped', () => {
  const decoder = new FrameDecoder();
  decoder.push(Buffer.from('000000', 'hex'));
  assert.throws(() => decoder.end(), /received 3 of 4 length-prefix bytes/);
  const d2 = new FrameDecoder();
  d2.push(Buffer.from('0000000aabcd', 'hex'));
  assert.throws(() => d2.end(), /received 2 of 10 payload bytes/);
});
