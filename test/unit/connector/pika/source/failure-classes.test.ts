// Which Pika failures the runtime restarts (retriable) and which leave the task FAILED until the operator restarts it:
// the connector's error classes carry it, the runtime's failure policy follows it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureAction } from '../../../../../runtime/worker/failure-policy.ts';
import { ReplicationGapError, ReplicationRefusedError } from '../../../../../connector/pika/replication/errors.ts';
import { ConnectionClosedError } from '../../../../../connector/pika/replication/connection.ts';
import { PikaProtocolError } from '../../../../../connector/pika/protocol/errors.ts';
import { LegacyHandshakeError } from '../../../../../connector/pika/legacy/handshake.ts';
import { LegacyConnectError } from '../../../../../connector/pika/legacy/tcp.ts';
import { ProtocolDetectionError } from '../../../../../connector/pika/legacy/protocol-detect.ts';
import { NewerDumpError, RsyncError } from '../../../../../connector/pika/rsync/errors.ts';
import { RsyncDaemonError } from '../../../../../connector/pika/rsync-daemon/errors.ts';
import { DumpFormatError } from '../../../../../connector/pika/dump/errors.ts';
import { explainKafkaError } from '../../../../../runtime/kafka/error-docs.ts';

const cases: Array<[string, unknown, 'restart' | 'stay-failed']> = [
  ['wrong password (PB MetaSync refused)', new ReplicationRefusedError('the master refused MetaSync: "auth"', 'PIKA_AUTH'), 'stay-failed'],
  ['wrong password (legacy)', new LegacyHandshakeError('auth failed', 'PIKA_LEGACY_AUTH'), 'stay-failed'],
  ['a gap the task cannot resync (raw)', new ReplicationGapError('purged', 'db0', 'purged'), 'stay-failed'],
  ['a protocol mismatch (bytes off the protocol)', new PikaProtocolError('malformed InnerResponse'), 'stay-failed'],
  ['sync.protocol names the wrong protocol', new ProtocolDetectionError('legacy on a PB master', 'PIKA_PROTOCOL_LEGACY_ON_PB_MASTER'), 'stay-failed'],
  ['a damaged dump', new DumpFormatError('db0', 'bad key'), 'stay-failed'],
  ['the rsync daemon refused the push (secret)', new RsyncDaemonError('auth', 'PIKA_RSYNCD_AUTH'), 'stay-failed'],
  ['an rsync2 reply that contradicts itself', new RsyncError('inconsistent', { code: 'PIKA_RSYNC_BAD_REPLY' }), 'stay-failed'],
  ['the replication connection lost', new ConnectionClosedError('the master closed the replication connection'), 'restart'],
  ['a legacy master port unreachable (restarting master)', new LegacyConnectError('cannot connect', 'ECONNREFUSED'), 'restart'],
  ['the PB port unreachable during protocol selection', new ProtocolDetectionError('unreachable', 'PIKA_PROTOCOL_PORT_UNREACHABLE'), 'restart'],
  ['the rsync daemon did not come up', new RsyncDaemonError('did not listen', 'PIKA_RSYNCD_START'), 'restart'],
  ['the dump replaced during download', new NewerDumpError('db0', 'a', 'b', 'meta'), 'restart'],
  ['the rsync2 connection lost', new RsyncError('closed', { code: 'PIKA_RSYNC_CONNECTION_LOST', retriable: true }), 'restart'],
  ['Kafka unreachable (kafkajs gave up: non-retriable wrapper)',
    explainKafkaError(Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { retriable: false }), 'committing', (e) => (e as Error).message), 'restart'],
  ['a record over the broker\'s size limit',
    explainKafkaError(Object.assign(new Error('too large'), { type: 'MESSAGE_TOO_LARGE', retriable: false }), 'sending', (e) => (e as Error).message), 'stay-failed'],
];

for (const [what, error, expected] of cases) {
  test(`${what}: ${expected}`, () => assert.equal(failureAction(error), expected));
}
