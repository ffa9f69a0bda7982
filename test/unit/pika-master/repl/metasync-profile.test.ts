// The test master's MetaSync reply per profile: 4.0 lists db_instance_num for every DB, 3.5 leaves it out (as a
// real 3.5.5 master does) instead of failing to encode its own reply.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startPikaMaster, type PikaMaster } from '../../../pika-master/index.ts';
import { decodeInnerResponse, InnerRequestType } from '../../../pika-master/repl/pb-messages.ts';
import { decodeInnerResponse as clientDecode } from '../../../../connector/pika/protocol/messages.ts';
import { parseMasterInfo } from '../../../../connector/pika/replication/handshake.ts';
import { RawPbClient } from './pb-client.ts';

const metaSync = Buffer.from(InnerRequestType.encode(InnerRequestType.fromObject({ type: 1, meta_sync: { node: { ip: '10.0.0.9', port: 9700 } } })).finish());

describe('test master MetaSync reply per profile', () => {
  const masters: PikaMaster[] = [];
  after(async () => { for (const m of masters) await m.stop(); });

  for (const profile of ['4.0', '3.5'] as const) {
    it(`${profile}: kOk listing both DBs${profile === '3.5' ? ' without db_instance_num' : ' with db_instance_num'}`, async () => {
      const m = await startPikaMaster({ dbs: 2, profile });
      masters.push(m);
      const c = await RawPbClient.connect(m.ports.repl);
      c.sendBody(metaSync);
      assert.ok(await c.waitFor(() => c.frames.length >= 1, 5000), 'the master answers MetaSync');
      const reply = decodeInnerResponse(c.frames[0]!) as { code: string; meta_sync: { dbs_info: Array<Record<string, unknown>> } };
      assert.equal(reply.code, 'kOk');
      assert.deepEqual(reply.meta_sync.dbs_info.map((d) => d.db_name), ['db0', 'db1']);
      assert.equal(reply.meta_sync.dbs_info.every((d) => 'db_instance_num' in d), profile === '4.0');
      assert.equal(parseMasterInfo(clientDecode(c.frames[0]!)).profile, profile, 'the connector reads the profile from the reply');
      c.close();
    });
  }
});
