import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsForwarder, applyMetricUpdates } from '../../../../../runtime/worker/threaded-task/metrics-forwarder.ts';
import type { TaskMetricsFacade } from '../../../../../runtime/api/task.ts';

test('updates are coalesced per series (gauge: last value, counter: sum) and replayed on the main facade', () => {
  const fwd = new MetricsForwarder();
  const lag = fwd.gauge('pika_lag', 'lag', ['db']);
  const reconnects = fwd.counter('pika_reconnects_total', 'reconnects');
  lag.set(5, { db: '0' });
  lag.set(7, { db: '0' });
  lag.set(1, { db: '1' });
  reconnects.inc();
  reconnects.inc(2);
  const updates = fwd.take();
  assert.equal(updates.length, 3);
  assert.deepEqual(fwd.take(), [], 'taken once');

  const seen: string[] = [];
  const facade: TaskMetricsFacade = {
    gauge: (name, _help, labels) => ({ set: (v, l) => seen.push(`${name}[${labels?.join()}] ${JSON.stringify(l)}=${v}`) }),
    counter: (name) => ({ inc: (by, l) => seen.push(`${name} ${JSON.stringify(l)}+${by}`) }),
  };
  applyMetricUpdates(facade, structuredClone(updates));
  assert.deepEqual(seen, ['pika_lag[db] {"db":"0"}=7', 'pika_lag[db] {"db":"1"}=1', 'pika_reconnects_total undefined+3']);
});
