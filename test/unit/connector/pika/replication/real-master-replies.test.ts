// Our session against the exact replies a real Pika 4.0.1 master gave on its error paths
// (../shared/pika-vectors-errors/raw/*, see its README): a scripted server sends the recorded frames back and
// decodes every request of ours as strictly as Pika does (a missing required field would fail here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { FrameDecoder } from '../../../../../connector/pika/protocol/frame-decoder.ts';
import { decodeInnerRequest, decodeInnerResponse, encodeInnerResponse, InnerType, type InnerRequest } from '../../../../../connector/pika/protocol/messages.ts';
import { encodeFrame } from '../../../../../connector/pika/protocol/frame-decoder.ts';
import { newSession, waitFor } from './session-helpers.ts';

const RAW = new URL('../../../../../../shared/pika-vectors-errors/raw/', import.meta.url);
const frame = (file: string): Buffer => readFileSync(new URL(file, RAW));

/** A master that answers the n-th request of a type with the recorded frames the script names. */
class ScriptedMaster {
  readonly requests: InnerRequest[] = [];
  private readonly server: Server;
  private socket: Socket | undefined;
  port = 0;

  constructor(private readonly script: (request: InnerRequest, nthOfType: number) => Array<string | Buffer>) {
    this.server = createServer((socket) => {
      this.socket = socket;
      const decoder = new FrameDecoder();
      const counts = new Map<number, number>();
      socket.on('data', (chunk) => {
        for (const body of decoder.push(chunk)) {
          const request = decodeInnerRequest(body); // strict, like PikaReplServerConn::DealMessage
          this.requests.push(request);
          const n = (counts.get(request.type) ?? 0) + 1;
          counts.set(request.type, n);
          for (const file of this.script(request, n)) socket.write(typeof file === 'string' ? frame(file) : file);
        }
      });
      socket.on('error', () => {});
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  push(file: string): void {
    this.socket!.write(frame(file));
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  types(): number[] {
    return this.requests.map((r) => r.type);
  }
}

test('real replies: "Slave AlreadyExist" is retried, then MetaSync kOk, TrySync kOk; a real keepalive is answered with a ping of that session', async () => {
  const master = new ScriptedMaster((request, n) => {
    if (request.type === InnerType.kMetaSync) return [n === 1 ? '02_metasync_already_exist/002_B_resp.bin' : '35_keepalive_idle_session/002_K_resp.bin'];
    if (request.type === InnerType.kTrySync) return ['35_keepalive_idle_session/004_K_resp.bin'];
    if (request.type === InnerType.kBinlogSync && request.binlog_sync!.first_send) return ['35_keepalive_idle_session/008_K_resp.bin'];
    return [];
  });
  const s = newSession(await master.listen(), { dbs: ['db0'], start: () => ({ filenum: 139, offset: 1048784 }) });
  try {
    s.start();
    await s.ready();
    await waitFor(() => s.stats.keepalivesReceived >= 1 && master.requests.slice(4).some((r) => r.type === InnerType.kBinlogSync), 'the keepalive and its answer');
    const types = master.types();
    assert.deepEqual(types.slice(0, 4), [InnerType.kMetaSync, InnerType.kMetaSync, InnerType.kTrySync, InnerType.kBinlogSync]);
    assert.equal(s.stats.alreadyExistRetries, 1);
    const first = master.requests[3]!.binlog_sync!;
    assert.equal(first.first_send, true);
    assert.deepEqual([first.ack_range_start.filenum, Number(first.ack_range_start.offset), first.session_id], [139, 1048784, 5], 'first send at our start with the session of the real TrySync reply');
    const ping = master.requests.slice(4).find((r) => r.type === InnerType.kBinlogSync)!.binlog_sync!;
    assert.deepEqual([ping.first_send, ping.ack_range_start.filenum, Number(ping.ack_range_start.offset), ping.ack_range_end.filenum, Number(ping.ack_range_end.offset), ping.session_id, ping.db_name], [false, 0, 0, 0, 0, 5, 'db0']);
  } finally {
    await s.stop();
    await master.close();
  }
});

for (const [dir, kind] of [
  ['03_trysync_sync_point_larger', 'larger'],
  ['05_trysync_sync_point_purged', 'purged'],
  ['06_trysync_non_boundary', 'not-boundary'],
] as const) {
  test(`real TrySync reply ${dir.slice(3)} → gap "${kind}", no further request`, async () => {
    const master = new ScriptedMaster((request) => {
      if (request.type === InnerType.kMetaSync) return ['01_metasync_ok/002_A_resp.bin'];
      if (request.type === InnerType.kTrySync) return [`${dir}/002_A_resp.bin`];
      return [];
    });
    const s = newSession(await master.listen(), { dbs: ['db0'], start: () => ({ filenum: 35, offset: 100 }) });
    try {
      s.start();
      await assert.rejects(s.take(1, 10_000), (e: Error & { kind?: string }) => e.kind === kind && /master is at 39:1025/.test(e.message));
      assert.deepEqual(master.types(), [InnerType.kMetaSync, InnerType.kTrySync], 'no retry loop, no DBSync');
    } finally {
      await s.stop();
      await master.close();
    }
  });
}

test('real TrySync "DB not found" and real wrong-auth replies are clear refusals', async () => {
  for (const [files, pattern] of [
    [['01_metasync_ok/002_A_resp.bin', '07_trysync_unknown_db/002_A_resp.bin'], /DB not found/],
    [['36_metasync_wrong_auth/002_X_resp.bin'], /Invalid masterauth.*pika\.password/],
  ] as const) {
    const master = new ScriptedMaster((request) => {
      if (request.type === InnerType.kMetaSync) return [files[0]];
      if (request.type === InnerType.kTrySync && files[1]) return [files[1]];
      return [];
    });
    const s = newSession(await master.listen(), { dbs: ['db0'], password: 'x' });
    try {
      s.start();
      await assert.rejects(s.take(1, 10_000), pattern);
      assert.ok(!master.types().includes(InnerType.kDBSync) && !master.types().includes(InnerType.kRemoveSlaveNode));
    } finally {
      await s.stop();
      await master.close();
    }
  }
});

test('real pushed items after a first send at 35:0 are decoded in order and acknowledged exactly as Pika\'s replica acks them', async () => {
  const master = new ScriptedMaster((request) => {
    if (request.type === InnerType.kMetaSync) return ['01_metasync_ok/002_A_resp.bin'];
    if (request.type === InnerType.kTrySync) return ['08_trysync_ok_old_offset/002_A_resp.bin'];
    if (request.type === InnerType.kBinlogSync && request.binlog_sync!.first_send) return ['09_binlogsync_first_send/002_A_resp.bin'];
    return [];
  });
  const s = newSession(await master.listen(), { dbs: ['db0'], start: () => ({ filenum: 35, offset: 0 }) });
  try {
    s.start();
    const items = [];
    while (items.length < 25) items.push(...await s.take(100, 10_000));
    assert.equal(items.length, 25);
    const pushed = decodeInnerResponse(frame('09_binlogsync_first_send/002_A_resp.bin').subarray(4)).binlog_sync!;
    assert.deepEqual(items.map((i) => `${i.end.filenum}:${i.end.offset}`), pushed.map((p) => `${p.binlog_offset.filenum}:${p.binlog_offset.offset}`));
    s.acknowledge('db0', items[0]!.generation, items[0]!.end, items.at(-1)!.end, 25);
    await waitFor(() => master.requests.some((r) => r.type === InnerType.kBinlogSync && !r.binlog_sync!.first_send && r.binlog_sync!.ack_range_end.filenum !== 0), 'our ack');
    const ours = master.requests.find((r) => r.type === InnerType.kBinlogSync && !r.binlog_sync!.first_send && r.binlog_sync!.ack_range_end.filenum !== 0)!.binlog_sync!;
    const real = decodeInnerRequest(frame('10_binlogsync_ack_ok/001_A_req.bin').subarray(4)).binlog_sync!;
    const range = (b: typeof real) => [b.ack_range_start.filenum, Number(b.ack_range_start.offset), b.ack_range_end.filenum, Number(b.ack_range_end.offset), b.session_id, b.first_send];
    assert.deepEqual(range(ours), range(real), 'the same ack range as the real probe client sent (and the master accepted)');
  } finally {
    await s.stop();
    await master.close();
  }
});

test('a real 3.5.5 MetaSync reply (no db_instance_num) makes the session use the 3.5 profile', async () => {
  const stream = readFileSync(new URL('../../../../../../shared/pika-vectors-3.5.5/decoded/repl/repl_11221_48098_s2c.bin', import.meta.url));
  const metaSyncReply = stream.subarray(0, 4 + stream.readUInt32BE(0));
  assert.equal(decodeInnerResponse(metaSyncReply.subarray(4)).type, InnerType.kMetaSync);
  const master = new ScriptedMaster((request) => {
    if (request.type === InnerType.kMetaSync) return [metaSyncReply];
    if (request.type === InnerType.kTrySync) return ['08_trysync_ok_old_offset/002_A_resp.bin'];
    return [];
  });
  const s = newSession(await master.listen(), { dbs: ['db0'] });
  try {
    s.start();
    await s.ready();
    assert.equal(s.master?.profile, '3.5');
  } finally {
    await s.stop();
    await master.close();
  }
});

/** The real push of case 09 (25 items, session 0), altered. */
function alteredPush(change: (items: NonNullable<ReturnType<typeof decodeInnerResponse>['binlog_sync']>) => void): Buffer {
  const response = decodeInnerResponse(frame('09_binlogsync_first_send/002_A_resp.bin').subarray(4));
  change(response.binlog_sync!);
  return encodeFrame(encodeInnerResponse(response));
}

function streamingMaster(push: Buffer): ScriptedMaster {
  return new ScriptedMaster((request) => {
    if (request.type === InnerType.kMetaSync) return ['01_metasync_ok/002_A_resp.bin'];
    if (request.type === InnerType.kTrySync) return ['08_trysync_ok_old_offset/002_A_resp.bin'];
    if (request.type === InnerType.kBinlogSync && request.binlog_sync!.first_send) return [push];
    return [];
  });
}

test('an item missing from the real stream is a "discontinuity" gap naming both positions, never skipped', async () => {
  const master = streamingMaster(alteredPush((items) => { items.splice(5, 1); }));
  const s = newSession(await master.listen(), { dbs: ['db0'], start: () => ({ filenum: 35, offset: 0 }) });
  try {
    s.start();
    const taken = [];
    await assert.rejects(async () => { for (;;) taken.push(...await s.take(100, 10_000)); },
      (e: Error & { kind?: string }) => e.kind === 'discontinuity' && /expected the item to start at/.test(e.message));
    assert.ok(taken.length <= 5, 'nothing after the hole was delivered');
  } finally {
    await s.stop();
    await master.close();
  }
});

test('items of another session id are ignored as Pika\'s replica does (stale session)', async () => {
  const master = streamingMaster(alteredPush((items) => { for (const i of items) i.session_id = 7; }));
  const s = newSession(await master.listen(), { dbs: ['db0'], start: () => ({ filenum: 35, offset: 0 }) });
  try {
    s.start();
    await waitFor(() => s.stats.staleMessagesIgnored === 1, 'the stale message');
    assert.deepEqual(await s.take(100, 100), []);
  } finally {
    await s.stop();
    await master.close();
  }
});
