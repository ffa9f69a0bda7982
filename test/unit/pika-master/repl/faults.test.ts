// Fault hooks of the test master: purge makes an old sync point unusable, a corrupted frame does not
// parse, a cut drops the connection and frees the slave identity.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startPikaMaster, type PikaMaster } from '../../../pika-master/index.ts';
import { InnerRequestType, decodeInnerResponse } from '../../../pika-master/repl/pb-messages.ts';
import { RawPbClient } from './pb-client.ts';

const node = { ip: '10.0.0.7', port: 9600 };
const request = (obj: Record<string, unknown>): Buffer => Buffer.from(InnerRequestType.encode(InnerRequestType.fromObject(obj)).finish());
const metaSync = request({ type: 1, meta_sync: { node } });
const trySync = (filenum: number, offset: number) =>
  request({ type: 2, try_sync: { node, slot: { db_name: 'db0', slot_id: 0 }, binlog_offset: { filenum, offset } } });

describe('test master fault hooks', () => {
  let m: PikaMaster;
  after(async () => { await m.stop(); rmSync(m.dir, { recursive: true, force: true }); });

  it('purging binlogs turns a valid sync point into kSyncPointBePurged', async () => {
    m = await startPikaMaster({ dbs: 1, binlogFileSize: 1024 });
    for (let i = 0; i < 30; i++) m.exec(0, ['SET', `k${i}`, 'x'.repeat(100)]);
    const client = await RawPbClient.connect(m.ports.repl);
    client.sendBody(trySync(0, 0));
    await client.waitFor(() => client.frames.length >= 1, 3000);
    assert.equal((decodeInnerResponse(client.frames[0]!) as any).try_sync.reply_code, 'kOk');
    assert.deepEqual(m.faults.purgeBinlogs(0, 1), [0, 1]);
    client.sendBody(trySync(0, 0));
    await client.waitFor(() => client.frames.length >= 2, 3000);
    assert.equal((decodeInnerResponse(client.frames[1]!) as any).try_sync.reply_code, 'kSyncPointBePurged');
    client.close();
  });

  it('corruptNextFrame sends a body that is not a valid InnerResponse', async () => {
    const client = await RawPbClient.connect(m.ports.repl);
    m.faults.corruptNextFrame();
    client.sendBody(metaSync);
    await client.waitFor(() => client.frames.length >= 1, 3000);
    assert.throws(() => decodeInnerResponse(client.frames[0]!));
    client.close();
  });

  it('cutConnections closes replication connections; the identity can register again', async () => {
    const client = await RawPbClient.connect(m.ports.repl);
    client.sendBody(metaSync);
    await client.waitFor(() => client.frames.length >= 1, 3000);
    m.faults.cutConnections();
    assert.ok(await client.waitFor(() => client.closed, 3000));
    const again = await RawPbClient.connect(m.ports.repl);
    again.sendBody(metaSync);
    await again.waitFor(() => again.frames.length >= 1, 3000);
    assert.equal((decodeInnerResponse(again.frames[0]!) as any).code, 'kOk');
    again.close();
  });
});
