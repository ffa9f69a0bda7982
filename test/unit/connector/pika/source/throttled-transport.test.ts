import { test } from 'node:test';
import assert from 'node:assert/strict';
import { throttledTransport } from '../../../../../connector/pika/source/throttled-transport.ts';
import type { RsyncTransport } from '../../../../../connector/pika/rsync/index.ts';

/** An inner transport the test feeds by hand. */
function fakeInner() {
  let data: ((chunk: Uint8Array) => void) | undefined;
  let close: ((err?: Error) => void) | undefined;
  const transport: RsyncTransport = {
    write: () => {},
    onData: (l) => { data = l; },
    onClose: (l) => { close = l; },
    close: () => close?.(),
  };
  return { transport, receive: (c: Uint8Array) => data!(c), end: (err?: Error) => close!(err) };
}

function collect(t: RsyncTransport): { chunks: number[]; closed: Promise<Error | undefined> } {
  const chunks: number[] = [];
  t.onData((c) => chunks.push(c[0]!));
  const closed = new Promise<Error | undefined>((resolve) => t.onClose(resolve));
  return { chunks, closed };
}

test('chunks are handed on in arrival order even when the clock jumps between two arrivals in one loop turn', async () => {
  // Under load, a pause between two socket reads in the same event-loop turn moves Date.now() but not the loop's
  // cached time that timers start from; per-chunk timers then fired the second chunk first and the rsync2 stream
  // lost its frame alignment ("rsync2 frame of 3560306182 bytes exceeds the limit").
  const realNow = Date.now;
  const inner = fakeInner();
  const t0 = realNow();
  let now = t0;
  Date.now = () => now;
  try {
    const t = await throttledTransport(async () => inner.transport, 1_000_000)();
    const { chunks, closed } = collect(t);
    inner.receive(new Uint8Array(50_000).fill(1)); // released 50 ms from now
    now = t0 + 40; // a 40 ms pause before the next read, same loop turn
    inner.receive(new Uint8Array(1_000).fill(2)); // released at t0 + 51
    inner.receive(new Uint8Array(1_000).fill(3));
    inner.end();
    Date.now = realNow;
    assert.equal(await closed, undefined);
    assert.deepEqual(chunks, [1, 2, 3]);
  } finally {
    Date.now = realNow;
  }
});

test('the close is reported after every held chunk, with its error, and nothing arrives after close()', async () => {
  const inner = fakeInner();
  const t = await throttledTransport(async () => inner.transport, 1_000_000)();
  const { chunks, closed } = collect(t);
  for (let i = 1; i <= 5; i++) inner.receive(new Uint8Array(2_000).fill(i));
  const boom = new Error('reset');
  inner.end(boom);
  assert.equal(await closed, boom);
  assert.deepEqual(chunks, [1, 2, 3, 4, 5]);

  const inner2 = fakeInner();
  const t2 = await throttledTransport(async () => inner2.transport, 1_000_000)();
  const got = collect(t2);
  inner2.receive(new Uint8Array(100_000).fill(9)); // held for 100 ms
  t2.close();
  assert.equal(await got.closed, undefined);
  assert.deepEqual(got.chunks, []);
});

test('a received chunk is copied, so the socket may reuse its buffer', async () => {
  const inner = fakeInner();
  const t = await throttledTransport(async () => inner.transport, 1_000_000)();
  const seen: Uint8Array[] = [];
  t.onData((c) => seen.push(c));
  const closed = new Promise((resolve) => t.onClose(resolve));
  const buf = new Uint8Array(1_000).fill(7);
  inner.receive(buf);
  buf.fill(0);
  inner.end();
  await closed;
  assert.equal(seen.length, 1);
  assert.ok(seen[0]!.every((b) => b === 7));
});
