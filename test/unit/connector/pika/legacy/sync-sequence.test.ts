import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDumpInfo } from '../../../../../connector/pika/dump/info-file.ts';
import { LegacyFrameDecoder } from '../../../../../connector/pika/legacy/frame-decoder.ts';
import { trysyncOutcome } from '../../../../../connector/pika/legacy/handshake.ts';
import { LegacyReplyReader } from '../../../../../connector/pika/legacy/replies.ts';
import {
  advanceLegacySync, beginLegacySync, type LegacySyncAction, type LegacySyncConfig,
} from '../../../../../connector/pika/legacy/sync-sequence.ts';
import { legacyFile } from './vectors.ts';

const REPL = 'fullsync/decoded/repl/';
// Pika replaced 127.0.0.1 by the host address 192.0.2.2 on both sides of the capture.
const config: LegacySyncConfig = { masterIp: '192.0.2.2', masterPort: 9721, replicaIp: '192.0.2.2', replicaPort: 9731 };
const outcomeOf = (file: string) => trysyncOutcome(new LegacyReplyReader().push(legacyFile(file)), false)!;
const sentBytes = (actions: LegacySyncAction[]) => actions.flatMap((a) => (a.type === 'send-trysync' ? [a.bytes] : []));

test('fullsync capture replayed: force → wait → dump info → trysync 0:622503 → sid 2 → spci 2 → auth frame → streaming', () => {
  let t = beginLegacySync(config, 'force');
  assert.deepEqual(t.actions[0], { type: 'start-rsync-daemon', port: 12731, module: 'document_192.0.2.2:9721' });
  assert.deepEqual(sentBytes(t.actions), [legacyFile(`${REPL}11_master_resp_9721_53536_c2s.bin`)]);

  t = advanceLegacySync(config, t.state, { type: 'trysync-outcome', outcome: outcomeOf(`${REPL}11_master_resp_9721_53536_s2c.bin`) });
  assert.deepEqual(t, { state: { step: 'await-dump' }, actions: [{ type: 'poll-dump-info' }] });

  const info = parseDumpInfo(legacyFile('fullsync/replica_rsync_received/info'));
  t = advanceLegacySync(config, t.state, { type: 'dump-info', info });
  assert.deepEqual(t.actions.map((a) => a.type), ['load-dump', 'start-rsync-daemon', 'send-trysync']);
  assert.deepEqual(t.actions[0], { type: 'load-dump', position: { filenum: 0, offset: 622503 } });
  assert.deepEqual(sentBytes(t.actions), [legacyFile(`${REPL}36_master_resp_9721_53550_c2s.bin`)]);

  t = advanceLegacySync(config, t.state, { type: 'trysync-outcome', outcome: outcomeOf(`${REPL}36_master_resp_9721_53550_s2c.bin`) });
  const heartbeat = t.actions.find((a) => a.type === 'start-heartbeat');
  assert.ok(heartbeat && heartbeat.type === 'start-heartbeat' && heartbeat.port === 11721);
  const realSpci = legacyFile(`${REPL}38_heartbeat_11721_53820_c2s.bin`).subarray(0, heartbeat.first.length);
  assert.deepEqual(heartbeat.first, realSpci);
  assert.deepEqual(t.actions.find((a) => a.type === 'expect-sender'), { type: 'expect-sender', port: 10731, sid: 2 });

  const [authFrame] = new LegacyFrameDecoder().push(legacyFile(`${REPL}42_binlog_to_replica_10731_39574_c2s.bin`).subarray(0, 27));
  t = advanceLegacySync(config, t.state, { type: 'receiver-frame', frame: authFrame! });
  assert.deepEqual(t.state, { step: 'streaming', sid: 2 });
});

test('a dump from another master, or an event out of order, stops the sequence with a clear error', () => {
  const waiting = advanceLegacySync(config, beginLegacySync(config, 'force').state, { type: 'trysync-outcome', outcome: { kind: 'wait' } });
  const info = { ...parseDumpInfo(legacyFile('fullsync/replica_rsync_received/info')), port: 9999 };
  assert.throws(() => advanceLegacySync(config, waiting.state, { type: 'dump-info', info }), /names master 192\.0\.2\.2:9999, expected 192\.0\.2\.2:9721/);
  assert.throws(() => advanceLegacySync(config, waiting.state, { type: 'trysync-outcome', outcome: { kind: 'wait' } }),
    /trysync-outcome is not expected in step await-dump/);
});
