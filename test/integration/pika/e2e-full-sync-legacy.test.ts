// Full sync then binlog on the legacy test masters, sync.protocol=auto. Legacy 3.0: the master's first binlog file is
// purged, so TRYSYNC 0:0 is answered `wait`; the master bgsaves and pushes the dump with the real `rsync` client to
// the connector's daemon (pika.replica.port + 3000, module `document_<master ip>:<master port>`, `info` last, as in
// pika-vectors-3.0.16-legacy); the connector emits the snapshot, TRYSYNCs at the dump's offset and streams the
// binlog: nothing lost or duplicated across the switch, replayed = the master. Legacy 2.x: a full sync would push a
// Nemo dump, which the connector cannot read: the task fails saying so (pika-protocol.md §1, §7.6).
import { test } from 'node:test';
import { rocksDbMissing } from '../../fixtures/rocksdb-gen/build.ts';
import { PROFILES } from './profiles.ts';
import { fullSyncScenario, fullSyncUnsupportedScenario } from './e2e-scenarios.ts';

test('legacy-3.0: TRYSYNC answered "wait" (binlog purged) → rsync push to port + 3000 → snapshot, then binlog at the dump offset; replayed = the master (auto → legacy-3.0)', { skip: rocksDbMissing() ?? false, timeout: 180_000 }, () => fullSyncScenario(PROFILES['legacy-3.0']));

test('legacy-2.x: TRYSYNC answered "wait" (binlog purged; snapshot.mode=always) → a clear error (a 2.x full sync is a Nemo dump, which the connector cannot read); nothing emitted (auto → legacy-2.x)', { timeout: 120_000 }, () => fullSyncUnsupportedScenario(PROFILES['legacy-2.x']));
