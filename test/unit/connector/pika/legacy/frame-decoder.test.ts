import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LEGACY_FRAME_TYPE_AUTH, LEGACY_FRAME_TYPE_BINLOG, LegacyFrameDecoder, encodeLegacyFrame, type LegacyFrame,
} from '../../../../../connector/pika/legacy/frame-decoder.ts';
import { encodeBinlogItem } from '../../../../../connector/pika/binlog/item.ts';
import { encodeRespCommand } from '../../../../../connector/pika/protocol/resp.ts';
import { PikaProtocolError } from '../../../../../connector/pika/protocol/errors.ts';
import { legacyFile, legacyJsonl, scriptCommands, type JsonlFrame } from './vectors.ts';

const RUNS = [
  { name: 'fullsync', stream: 'fullsync/decoded/repl/42_binlog_to_replica_10731_39574_c2s.bin' },
  { name: 'plain_slaveof', stream: 'plain_slaveof/decoded/repl/21_binlog_to_replica_10731_48824_c2s.bin' },
];

// binlog_frames.jsonl writes an argument that is not valid UTF-8 as "hex:<hex bytes>", and shortens long ones to
// "<first 200 chars>...(<n> bytes)".
function assertJsonlArg(actual: Buffer, want: string, where: string): void {
  const long = /^([\s\S]*)\.\.\.\((\d+) bytes\)$/.exec(want);
  if (long) {
    assert.equal(actual.length, Number(long[2]), where);
    assert.ok(actual.toString('latin1').startsWith(long[1]!), where);
    return;
  }
  const bytes = want.startsWith('hex:') ? Buffer.from(want.slice(4), 'hex') : Buffer.from(want, 'utf8');
  assert.deepEqual(actual, bytes, where);
}

function decodeInChunks(bytes: Buffer, chunkSize: number): LegacyFrame[] {
  const decoder = new LegacyFrameDecoder();
  const frames: LegacyFrame[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) frames.push(...decoder.push(bytes.subarray(i, i + chunkSize)));
  decoder.end();
  return frames;
}

for (const run of RUNS) {
  test(`${run.name}: every frame the real 3.0.16 master sent decodes to what binlog_frames.jsonl lists`, () => {
    const bytes = legacyFile(run.stream);
    const expected = legacyJsonl<JsonlFrame>(`${run.name}/decoded/binlog_frames.jsonl`);
    // Odd chunk sizes split headers, item headers and RESP bodies at every kind of boundary.
    for (const chunkSize of [bytes.length, 65536, 1447, 7]) {
      const frames = decodeInChunks(bytes, chunkSize);
      assert.equal(frames.length, expected.length, `chunk size ${chunkSize}`);
      frames.forEach((frame, i) => {
        const want = expected[i]!;
        if (frame.kind === 'auth') {
          assert.equal(want.type, LEGACY_FRAME_TYPE_AUTH);
          assert.equal(String(frame.sid), want.auth![0]![1]);
          return;
        }
        assert.equal(want.type, LEGACY_FRAME_TYPE_BINLOG, `frame ${i}`);
        const { item } = frame;
        assert.equal(item.serverId, want.server_id);
        assert.equal(item.logicId, want.logic_id);
        assert.equal(item.execTime, want.exec_time);
        assert.deepEqual(item.start, { filenum: want.filenum, offset: want.offset });
        assert.equal(item.contentLength, want.content_len);
        // Long commands are listed as their first 40 arguments and "...(<n> elements)".
        let wantArgs = want.content![0]!;
        const elided = /^\.\.\.\((\d+) elements\)$/.exec(wantArgs[wantArgs.length - 1]!);
        if (elided) wantArgs = wantArgs.slice(0, -1);
        assert.equal(item.argv.length, elided ? Number(elided[1]) : wantArgs.length, `frame ${i} argument count`);
        wantArgs.forEach((want, j) => assertJsonlArg(item.argv[j]!, want, `frame ${i} argument ${j}`));
      });
    }
  });
}

test('fullsync: the first frame authenticates slave id 2 and the items carry server_id 1 (bytes 6-9)', () => {
  const frames = decodeInChunks(legacyFile(RUNS[0]!.stream), 4096);
  assert.deepEqual(frames[0], { kind: 'auth', sid: 2 });
  const items = frames.slice(1).map((f) => (f.kind === 'binlog' ? f.item : assert.fail('binlog frame expected')));
  assert.ok(items.every((item) => item.serverId === 1));
  assert.deepEqual(items[0]!.start, { filenum: 0, offset: 622503 }, 'stream starts at the second TRYSYNC offset');
});

// Pika 3.0 rewrites some commands before logging them (README surprise 3) and does not log a SETNX that did nothing.
function loggedName(argv: Buffer[]): string {
  const name = argv[0]!.toString().toLowerCase();
  const upperArgs = argv.slice(3).map((a) => a.toString().toUpperCase());
  if (name === 'set' && (upperArgs.includes('EX') || upperArgs.includes('PX'))) return 'pksetexat';
  if (name === 'setex' || name === 'psetex') return 'pksetexat';
  if (name === 'expire' || name === 'pexpire') return 'expireat';
  if (name === 'setnx') return 'set';
  return name;
}

test('fullsync: the binlog items are the phase-2 script, in order, with 3.0\'s rewrites', () => {
  const frames = decodeInChunks(legacyFile(RUNS[0]!.stream), 65536);
  const items = frames.flatMap((f) => (f.kind === 'binlog' ? [f.item] : []));
  const script = scriptCommands('phase2_post_sync.redis').filter((argv) => argv[0]!.toString().toUpperCase() !== 'SELECT');
  let next = 0;
  const skipped: string[] = [];
  for (const command of script) {
    const item = items[next];
    const name = loggedName(command);
    if (item && item.argv[0]!.toString().toLowerCase() === name && item.argv[1]!.equals(command[1]!)) {
      next++;
      continue;
    }
    skipped.push(`${command[0]} ${command[1]}`);
  }
  assert.equal(next, items.length, 'every item matched a script command');
  assert.deepEqual(skipped, ['SETNX p2:str:setnx'], 'only the SETNX on an existing key is missing from the binlog');
});

const authFrame = encodeLegacyFrame(LEGACY_FRAME_TYPE_AUTH, encodeRespCommand(['auth', '7']));
const itemFrame = encodeLegacyFrame(
  LEGACY_FRAME_TYPE_BINLOG,
  encodeBinlogItem({ execTime: 1, termId: 3, logicId: 1, start: { filenum: 0, offset: 0 } }, encodeRespCommand(['SET', 'k', 'v'])),
);

test('malformed streams fail with a PikaProtocolError naming the problem', () => {
  const cases: Array<[Buffer, RegExp]> = [
    [itemFrame, /first frame has type 2/],
    [Buffer.concat([authFrame, authFrame]), /second auth frame/],
    [encodeLegacyFrame(3, Buffer.alloc(0)), /unknown frame type 3/],
    [encodeLegacyFrame(LEGACY_FRAME_TYPE_AUTH, encodeRespCommand(['auth', 'x'])), /sid "x" is not a decimal/],
    [encodeLegacyFrame(LEGACY_FRAME_TYPE_AUTH, encodeRespCommand(['ping'])), /must be "auth <sid>"/],
    [Buffer.concat([authFrame, itemFrame.subarray(0, itemFrame.length - 1), Buffer.from([0, 0, 0, 0, 0, 0, 0])]), /stream byte 27/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(() => new LegacyFrameDecoder().push(bytes), (err: unknown) => err instanceof PikaProtocolError && message.test(err.message));
  }
  const big = Buffer.alloc(6);
  big.writeUInt16LE(2, 0);
  big.writeUInt32LE(2 ** 31, 2);
  assert.throws(() => new LegacyFrameDecoder(1 << 20).push(Buffer.concat([authFrame, big])), /exceeds the limit/);
});

test('a connection that ends inside a frame is an error; one that ends between frames is not', () => {
  const decoder = new LegacyFrameDecoder();
  assert.equal(decoder.push(Buffer.concat([authFrame, itemFrame.subarray(0, 10)])).length, 1);
  assert.throws(() => decoder.end(), /ended inside a frame \(10 bytes/);
  const clean = new LegacyFrameDecoder();
  clean.push(Buffer.concat([authFrame, itemFrame]));
  assert.doesNotThrow(() => clean.end());
});

test('each item\'s computed end (64 KiB blocks, 8-byte record headers) is where the next item starts, except at the file roll', () => {
  for (const run of RUNS) {
    const items = decodeInChunks(legacyFile(run.stream), 65536).flatMap((f) => (f.kind === 'binlog' ? [f] : []));
    let rolls = 0;
    for (let i = 1; i < items.length; i++) {
      const prev = items[i - 1]!;
      const next = items[i]!.item.start;
      if (next.filenum !== prev.end.filenum) {
        rolls++;
        continue;
      }
      assert.deepEqual(prev.end, next, `${run.name} item ${i - 1}`);
    }
    assert.ok(rolls <= 1, `${run.name}: one roll at most (surprise 4)`);
  }
});
