// Deterministic fuzzing of everything that parses bytes from the network: random and mutated frames, protobuf
// messages, binlog items and RESP. Each input must either decode or throw a PikaProtocolError with a message —
// never crash with another error type, never hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBinlogItem } from '../../../../../connector/pika/binlog/item.ts';
import { binlogItemToEvents } from '../../../../../connector/pika/events/binlog-events.ts';
import { PikaProtocolError } from '../../../../../connector/pika/protocol/errors.ts';
import { FrameDecoder, encodeFrame } from '../../../../../connector/pika/protocol/frame-decoder.ts';
import {
  decodeInnerRequest,
  decodeInnerResponse,
  decodeRsyncRequest,
  decodeRsyncResponse,
} from '../../../../../connector/pika/protocol/messages.ts';
import { encodeRespCommand, parseRespCommand } from '../../../../../connector/pika/protocol/resp.ts';
import { pushedItems } from '../binlog/pushed-items.ts';
import { framePayload, isRsync, loadCapture } from './vector-frames.ts';
import { seededRandom as rng } from '../../../../helpers/random.ts';

const ITERATIONS = 1500;


/** Random edits of a sample: byte flips, truncation, insertion, duplication, boundary values. */
function mutate(sample: Buffer, random: () => number): Buffer {
  const int = (n: number): number => Math.floor(random() * n);
  let out = Buffer.from(sample);
  const edits = 1 + int(4);
  for (let e = 0; e < edits; e++) {
    const at = out.length === 0 ? 0 : int(out.length);
    switch (int(6)) {
      case 0:
        if (out.length) out[at] = int(256);
        break;
      case 1:
        out = out.subarray(0, at);
        break;
      case 2:
        out = Buffer.concat([out.subarray(0, at), Buffer.from([int(256), int(256)]), out.subarray(at)]);
        break;
      case 3:
        out = Buffer.concat([out, out.subarray(at, at + 16)]);
        break;
      case 4:
        if (out.length) out[at] = [0x00, 0xff, 0x7f, 0x80, 0x0d, 0x0a, 0x24, 0x2a][int(8)]!;
        break;
      default:
        out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + int(8)))]);
    }
  }
  return out;
}

function randomBytes(random: () => number, max: number): Buffer {
  const out = Buffer.alloc(Math.floor(random() * max));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/** Runs `fn`; a throw must be a PikaProtocolError with a message. Returns whether it decoded. */
function decodesOrRejects(fn: () => unknown, what: string): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    assert.ok(err instanceof PikaProtocolError, `${what}: threw ${String(err)}`);
    assert.ok(err.message.length > 10, `${what}: empty message`);
    return false;
  }
}

test('fuzz: protobuf decoders on mutated captured messages and random bytes', () => {
  const capture = loadCapture('pika-vectors/decoded/repl');
  const samples = capture.frames.filter((f) => f.len < 4096).map((f) => ({ frame: f, bytes: framePayload(capture, f) }));
  const random = rng(1);
  let decoded = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const { frame, bytes } = samples[Math.floor(random() * samples.length)]!;
    const input = i % 5 === 0 ? randomBytes(random, 64) : mutate(bytes, random);
    const decoders = isRsync(frame) ? [decodeRsyncRequest, decodeRsyncResponse] : [decodeInnerRequest, decodeInnerResponse];
    for (const decode of decoders) if (decodesOrRejects(() => decode(input), `${decode.name} #${i}`)) decoded++;
  }
  assert.ok(decoded > 0, 'some mutations still decode');
});

test('fuzz: frame decoder on random and mutated streams in random chunks', () => {
  const capture = loadCapture('pika-vectors/decoded/repl');
  const stream = Buffer.concat(capture.frames.filter((f) => f.len < 2048).slice(0, 40).map((f) => encodeFrame(framePayload(capture, f))));
  const random = rng(2);
  for (let i = 0; i < 300; i++) {
    const input = i % 3 === 0 ? randomBytes(random, 256) : mutate(stream, random);
    const decoder = new FrameDecoder({ maxFrameLength: 1 << 20 });
    decodesOrRejects(() => {
      for (let pos = 0; pos < input.length; ) {
        const size = 1 + Math.floor(random() * 100);
        decoder.push(input.subarray(pos, pos + size));
        pos += size;
      }
      decoder.end();
    }, `frame stream #${i}`);
  }
});

test('fuzz: binlog items and their events on mutated captured items', () => {
  const items = pushedItems('pika-vectors/decoded/repl').filter((p) => p.bytes.length < 4096);
  const random = rng(3);
  let decoded = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const sample = items[Math.floor(random() * items.length)]!;
    const input = mutate(sample.bytes, random);
    // Keep content_length consistent half of the time so the RESP and event layers get exercised too.
    if (i % 2 === 0 && input.length >= 34) input.writeUInt32LE(input.length - 34, 30);
    const ok = decodesOrRejects(() => {
      const item = decodeBinlogItem(input);
      const events = binlogItemToEvents(item, {
        db: 0, sourceId: 's', host: 'h', port: 1, replicationId: null, profile: '4.0', end: sample.end,
      });
      JSON.parse(JSON.stringify(events));
    }, `item #${i}`);
    if (ok) decoded++;
  }
  assert.ok(decoded > 0, 'some mutated items still decode');
});

test('fuzz: RESP parser on random and mutated commands', () => {
  const random = rng(4);
  const samples = [
    encodeRespCommand(['set', 'k', 'v']),
    encodeRespCommand(['hmset', 'h', 'f1', 'v1', 'f2', 'v2']),
    encodeRespCommand(['set', Buffer.from([0, 255, 13, 10]), '']),
  ];
  for (let i = 0; i < ITERATIONS; i++) {
    const input = i % 4 === 0 ? randomBytes(random, 48) : mutate(samples[i % samples.length]!, random);
    decodesOrRejects(() => parseRespCommand(input), `resp #${i}`);
  }
});
