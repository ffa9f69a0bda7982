// Full sync then binlog per PB test-master profile, sync.protocol=auto, two DBs: data written before the connector
// exists and while its full sync runs → snapshot events (snapshot topic) then binlog events (binlog topic), every
// snapshot part and binlog event once, binlog only after the dump offset, snapshot + binlog replayed = the master.
// 4.0 / 3.5 download the dump over rsync2; 3.1–3.4 masters push it into the connector's rsync daemon at
// pika.replica.port + 1000 (module document, the master password as the secret).
import { test } from 'node:test';
import { rocksDbMissing } from '../../fixtures/rocksdb-gen/build.ts';
import { cases } from './profiles.ts';
import { fullSyncScenario } from './e2e-scenarios.ts';

const skip = rocksDbMissing() ?? false;
for (const c of cases('4.0', '3.5', 'pb-3.4')) {
  test(`${c.profile}: no offset, snapshot.mode=initial → snapshot events, then binlog events; nothing lost or duplicated across the switch (auto → ${c.detected})`, { skip, timeout: 240_000 }, () => fullSyncScenario(c));
}
