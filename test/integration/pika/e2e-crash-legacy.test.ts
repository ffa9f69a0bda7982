// SIGKILL of the worker 3 times during a steady write load on legacy test masters (3.0 frames, 2.x RESP), with small
// binlog files so the master rolls files meanwhile, sync.protocol=auto: afterwards every write is in Kafka exactly
// once (read_committed, kafkajs and kcat), in write order per key. Legacy masters take no acks: the only resume
// point is the committed offset (TRYSYNC at the last committed item's start, that item dropped when it comes again).
import { test } from 'node:test';
import { cases } from './profiles.ts';
import { crashScenario } from './e2e-scenarios.ts';

cases('legacy-3.0', 'legacy-2.x').forEach((c, i) => {
  test(`${c.profile}: SIGKILL of the worker ${c.kills} times during writes and binlog rolls: every write in Kafka exactly once`, { timeout: 300_000 }, () => crashScenario(c, 7_2026_1122 + i));
});
