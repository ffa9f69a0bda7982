// SIGKILL of the worker at random moments during a steady write load on PB test masters (4.0: 10 kills; 3.5 and
// 3.1–3.4: 3 each), sync.protocol=auto: afterwards every write is in Kafka exactly once (read_committed, kafkajs and
// kcat), in write order per key, and the master never had to close a replication connection (an ack outside its
// window, or any malformed request, would make it do so).
import { test } from 'node:test';
import { cases } from './profiles.ts';
import { crashScenario } from './e2e-scenarios.ts';

cases('4.0', '3.5', 'pb-3.4').forEach((c, i) => {
  test(`${c.profile}: SIGKILL of the worker ${c.kills} times during a steady write load: every write in Kafka exactly once`, { timeout: 420_000 }, () => crashScenario(c, 4_2026_1122 + i));
});
