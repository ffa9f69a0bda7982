// End to end per test-master profile (4.0, 3.5, 3.1–3.4, legacy 3.0, legacy 2.x), sync.protocol=auto: commands of
// every data type the profile supports, written to the master's RESP port, appear in the binlog topic
// (read_committed) as the expected events, once each, in binlog order per key; auto's choice is in log and status.
import { test } from 'node:test';
import { cases } from './profiles.ts';
import { eventsScenario } from './e2e-scenarios.ts';

for (const c of cases('4.0', '3.5', 'pb-3.4', 'legacy-3.0', 'legacy-2.x')) {
  test(`${c.profile}: every command of every data type appears once, in order per key (auto → ${c.protocol} ${c.detected})`, { timeout: 180_000 }, () => eventsScenario(c));
}
