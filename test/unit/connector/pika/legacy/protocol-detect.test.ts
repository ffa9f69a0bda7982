import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ProtocolDetectionError, decideSyncProtocol, legacyProfileFromStream, nemoFullSyncError, profileFromVersion, type ProtocolProbes,
} from '../../../../../connector/pika/legacy/protocol-detect.ts';
import { pbVersionProfile } from '../../../../../connector/pika/source/protocol-selection.ts';
import { legacyFile } from './vectors.ts';

const master = { masterHost: '10.0.0.5', masterPort: 9221 };
const meta = (hasRunId: boolean, hasDbInstanceNum: boolean) => ({ kind: 'meta-sync' as const, hasRunId, hasDbInstanceNum });

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ProtocolDetectionError, String(err));
    return String(err.code);
  }
  return assert.fail('expected a ProtocolDetectionError');
}

test('auto asks for the PB-port probe first', () => {
  assert.deepEqual(decideSyncProtocol('auto', master), { kind: 'probe', probe: 'pb-port', reason: 'try a PB MetaSync on 10.0.0.5:11221' });
});

test('auto picks PB and the profile from the MetaSync reply: 3.1-3.4 (no run_id), 3.5, 4.0 (db_instance_num)', () => {
  const cases: Array<[ReturnType<typeof meta>, string]> = [[meta(false, false), '3.1-3.4'], [meta(true, false), '3.5'], [meta(true, true), '4.0']];
  for (const [pbPort, profile] of cases) {
    const d = decideSyncProtocol('auto', { ...master, pbPort });
    assert.equal(d.kind === 'decided' && d.protocol, 'pb');
    assert.equal(d.kind === 'decided' && d.profile, profile);
  }
});

test('auto falls back to legacy when port+2000 is closed or speaks RESP, with the 3.0 profile from the real INFO', () => {
  const info = legacyFile('fullsync/info/master.1_before_slaveof.INFO.txt').toString();
  const version = /pika_version:(\S+)/.exec(info)![1]!;
  const refused = decideSyncProtocol('auto', { ...master, pbPort: { kind: 'refused' }, pikaVersion: version });
  assert.deepEqual(refused, {
    kind: 'decided', protocol: 'legacy', profile: 'legacy-3.0',
    reason: 'auto: 10.0.0.5:11221 refuses connections, falling back to legacy TRYSYNC',
  });
  const resp = decideSyncProtocol('auto', { ...master, pbPort: { kind: 'not-pb', detail: 'closed without a reply' } });
  assert.equal(resp.kind === 'decided' && resp.protocol, 'legacy');
  assert.equal(resp.kind === 'decided' && resp.profile, null, '2.x vs 3.0 left to the binlog stream');
});

test('the binlog sender\'s first byte tells 3.0 frames from 2.x RESP', () => {
  const real = legacyFile('fullsync/decoded/repl/42_binlog_to_replica_10731_39574_c2s.bin');
  assert.equal(legacyProfileFromStream(real[0]!), 'legacy-3.0');
  assert.equal(legacyProfileFromStream('*'.charCodeAt(0)), 'legacy-2.x');
  assert.equal(code(() => legacyProfileFromStream(0x7b)), 'PIKA_PROTOCOL_LEGACY_STREAM');
});

test('classic failures give specific errors naming the port and the setting to change', () => {
  const trysyncRejected: ProtocolProbes = { ...master, trysyncError: "ERR unknown or unsupported command 'trysync'" };
  assert.throws(() => decideSyncProtocol('legacy', trysyncRejected), /Pika 3\.1 or newer .* 10\.0\.0\.5:11221; set sync\.protocol=pb or auto/);
  assert.equal(code(() => decideSyncProtocol('auto', trysyncRejected)), 'PIKA_PROTOCOL_LEGACY_ON_PB_MASTER');
  assert.equal(code(() => decideSyncProtocol('legacy', { ...master, pikaVersion: '3.5.5' })), 'PIKA_PROTOCOL_LEGACY_ON_PB_MASTER');
  assert.throws(() => decideSyncProtocol('pb', { ...master, pbPort: { kind: 'refused' } }),
    /sync\.protocol=pb but the master's PB replication port 10\.0\.0\.5:11221 refuses connections.*legacy or auto/);
  assert.throws(() => decideSyncProtocol('auto', { ...master, pbPort: { kind: 'unreachable', detail: 'connect ETIMEDOUT' } }),
    /cannot reach the master's replication port 10\.0\.0\.5:11221 .*ETIMEDOUT/);
  assert.equal(code(() => decideSyncProtocol('auto', { ...master, pbPort: { kind: 'refused' }, pikaVersion: '4.0.1' })), 'PIKA_PROTOCOL_PB_UNAVAILABLE');
  assert.equal(code(() => decideSyncProtocol('auto', { ...master, pbPort: meta(true, false), pikaVersion: '4.0.1' })), 'PIKA_PROTOCOL_INCONSISTENT');
});

test('sync.protocol=legacy and =pb are honoured when the master agrees', () => {
  const legacy = decideSyncProtocol('legacy', { ...master, pikaVersion: '2.3.6' });
  assert.deepEqual(legacy, { kind: 'decided', protocol: 'legacy', profile: 'legacy-2.x', reason: 'sync.protocol=legacy' });
  const pb = decideSyncProtocol('pb', { ...master, pbPort: meta(false, false), pikaVersion: '3.3.6' });
  assert.equal(pb.kind === 'decided' && pb.profile, '3.1-3.4');
});

test('version strings map to profiles; unsupported ones are refused', () => {
  const cases: Array<[string, string]> = [['2.3.6', 'legacy-2.x'], ['3.0.16', 'legacy-3.0'], ['3.1.0', '3.1-3.4'], ['3.4.1', '3.1-3.4'], ['3.5.5', '3.5'], ['4.0.1', '4.0']];
  for (const [version, profile] of cases) assert.equal(profileFromVersion(version), profile);
  assert.equal(code(() => profileFromVersion('5.0.0')), 'PIKA_PROTOCOL_VERSION');
  assert.equal(code(() => profileFromVersion('unknown')), 'PIKA_PROTOCOL_VERSION');
});

test('a PB session names its version profile from MetaSync: no run_id is 3.1–3.4 (the status shows it, not the 3.5 storage format)', () => {
  assert.equal(pbVersionProfile({ runId: null, profile: '3.5' }), '3.1-3.4');
  assert.equal(pbVersionProfile({ runId: 'abc', profile: '3.5' }), '3.5');
  assert.equal(pbVersionProfile({ runId: 'abc', profile: '4.0' }), '4.0');
});

test('a 2.x full sync is refused naming the Nemo dump and how to start without one', () => {
  const error = nemoFullSyncError('2.3.6');
  assert.equal(error.code, 'PIKA_LEGACY_2X_FULL_SYNC');
  assert.match(error.message, /Pika 2\.3\.6 and answered TRYSYNC with "wait"/);
  assert.match(error.message, /Nemo-format dump, which pika-connect cannot read/);
  assert.match(error.message, /snapshot\.mode=never/);
});
