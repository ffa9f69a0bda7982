import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeInnerRequest,
  decodeInnerResponse,
  decodeRsyncRequest,
  decodeRsyncResponse,
  encodeInnerRequest,
  encodeInnerResponse,
  encodeRsyncRequest,
  encodeRsyncResponse,
  InnerType,
  PikaProtocolError,
  RsyncType,
} from '../../../../../connector/pika/protocol/messages.ts';
import { CAPTURES, framePayload, isRsync, loadCapture } from './vector-frames.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const typeName = (enumObj: Record<string, number>, value: number): string | undefined =>
  Object.entries(enumObj).find(([, v]) => v === value)?.[0];

test('MetaSync request encodes to the bytes of the reference worked example (§3)', () => {
  const bytes = encodeInnerRequest({ type: InnerType.kMetaSync, meta_sync: { node: { ip: '10.0.0.5', port: 9221 } } });
  assert.equal(hex(bytes), '0801120f0a0d0a0831302e302e302e35108548');
});

test('first BinlogSync request writes every required field, zeros included (§3 worked example)', () => {
  const offset = { filenum: 12, offset: 34567n, term: 0, index: 0n };
  const bytes = encodeInnerRequest({
    type: InnerType.kBinlogSync,
    binlog_sync: {
      node: { ip: '10.0.0.5', port: 9221 },
      db_name: 'db0',
      slot_id: 0,
      ack_range_start: offset,
      ack_range_end: { ...offset, offset: 34567 },
      session_id: 2,
      first_send: true,
    },
  });
  assert.equal(
    hex(bytes),
    '08042a320a0d0a0831302e302e302e3510854812036462301800220a080c10878e02180020002a0a080c10878e021800200030023801',
  );
  const back = decodeInnerRequest(bytes);
  assert.equal(back.binlog_sync?.ack_range_end.offset, 34567n);
  assert.equal(back.binlog_sync?.slot_id, 0);
  assert.equal(back.binlog_sync?.first_send, true);
});

test('rsync2 meta request encodes to the reference bytes', () => {
  const bytes = encodeRsyncRequest({ type: RsyncType.kRsyncMeta, reader_index: 0, db_name: 'db0', slot_id: 0 });
  assert.equal(hex(bytes), '080110001a036462302000');
});

test('encoding with a missing required field throws instead of sending a frame Pika would reject', () => {
  assert.throws(
    () => encodeInnerRequest({ type: InnerType.kTrySync, try_sync: { node: { ip: 'h', port: 1 } } } as never),
    (err: unknown) => err instanceof PikaProtocolError && /try_sync/.test(err.message),
  );
  assert.throws(
    () => encodeRsyncRequest({ type: RsyncType.kRsyncMeta, reader_index: 0, db_name: 'db0' } as never),
    (err: unknown) => err instanceof PikaProtocolError && /slot_id/.test(err.message),
  );
});

test('decoding garbage or a response without its required fields throws a PikaProtocolError', () => {
  assert.throws(() => decodeInnerResponse(Buffer.from('0801', 'hex')), /missing required 'code'/);
  assert.throws(() => decodeInnerResponse(Buffer.from('08ffffffffffffffffffffff', 'hex')), PikaProtocolError);
  assert.throws(() => decodeRsyncResponse(Buffer.from('0a05ab', 'hex')), PikaProtocolError);
});

test('a MetaSync reply without run_id (3.1-3.4) and db_instance_num (3.5) decodes; those fields stay undefined', () => {
  // type=1, code=1, meta_sync{classic_mode=true, dbs_info[{db_name="db0", slot_num=1}]}
  const bytes = Buffer.from('08011001220b08011207' + '0a03646230' + '1001', 'hex');
  const reply = decodeInnerResponse(bytes);
  assert.equal(reply.meta_sync?.classic_mode, true);
  assert.equal(reply.meta_sync?.run_id, undefined);
  assert.deepEqual(reply.meta_sync?.dbs_info, [{ db_name: 'db0', slot_num: 1 }]);
  assert.throws(() => encodeInnerResponse(reply), /required field meta_sync\.dbs_info\[0\]\.db_instance_num is missing/, 'encoding stays 4.0.1-strict');
});

for (const name of CAPTURES) {
  test(`every captured frame of ${name} decodes to its indexed type`, () => {
    const capture = loadCapture(name);
    const is40 = name.startsWith('pika-vectors/');
    let checked = 0;
    for (const frame of capture.frames) {
      const payload = framePayload(capture, frame);
      if (payload.length < frame.len) continue; // the capture's last, incomplete frame
      const where = `${frame.stream_file}@${frame.stream_offset}`;
      if (isRsync(frame)) {
        const msg = frame.dir === 'c2s' ? decodeRsyncRequest(payload) : decodeRsyncResponse(payload);
        assert.equal(typeName(RsyncType, msg.type), frame.type, where);
        const again = frame.dir === 'c2s' ? encodeRsyncRequest(msg) : encodeRsyncResponse(msg as never);
        assert.equal(hex(again), hex(payload), `re-encoding ${where} is byte-identical`);
      } else if (frame.dir === 'c2s') {
        const msg = decodeInnerRequest(payload);
        assert.equal(typeName(InnerType, msg.type), frame.type, where);
        assert.equal(hex(encodeInnerRequest(msg)), hex(payload), `re-encoding ${where} is byte-identical`);
      } else {
        const msg = decodeInnerResponse(payload);
        assert.equal(typeName(InnerType, msg.type), frame.type, where);
        if (msg.meta_sync) {
          assert.ok(msg.meta_sync.dbs_info && msg.meta_sync.dbs_info.length > 0, where);
          for (const db of msg.meta_sync.dbs_info) {
            if (is40) assert.equal(db.db_instance_num, 3, `${where}: 4.0.1 sends db_instance_num`);
            else assert.equal(db.db_instance_num, undefined, `${where}: 3.5 has no db_instance_num`);
          }
        }
        if (is40) assert.equal(hex(encodeInnerResponse(msg)), hex(payload), `re-encoding ${where} is byte-identical`);
      }
      checked++;
    }
    assert.ok(checked > 10, `checked ${checked} frames`);
  });
}
