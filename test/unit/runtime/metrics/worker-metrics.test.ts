import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerMetrics, type ConnectorMetricsView } from '../../../../runtime/metrics/worker-metrics.ts';
import { TaskMetrics } from '../../../../runtime/worker/task-metrics.ts';
import { WindowedRate } from '../../../../runtime/metrics/windowed-rate.ts';
import { parsePrometheusText, sampleValue } from './prom-text.ts';

function setup() {
  const m0 = new TaskMetrics();
  const view: ConnectorMetricsView[] = [{ name: 'orders', state: 'RUNNING', tasks: [{ id: 0, state: 'RUNNING', restarts: 2, metrics: m0 }] }];
  const metrics = new WorkerMetrics(() => view, () => 10_000);
  return { m0, view, metrics };
}

test('task counters are exported with Kafka Connect names, labelled by connector and task, and follow the task', async () => {
  const { m0, metrics } = setup();
  m0.recordPoll(10, 4, 9_000);
  m0.recordWrite(10, 9_000);
  m0.recordCommit(10, 9_500);
  m0.recordPoll(6, 2, 9_600);
  m0.recordWrite(6, 9_600);
  m0.recordCommit(6, 9_700);
  m0.offsetCommitFailures = 1;
  const parsed = parsePrometheusText(await metrics.text());
  const labels = { connector: 'orders', task: '0' };
  const src = 'kafka_connect_source_task_metrics_';
  assert.equal(parsed.get(`${src}source_record_poll_total`)?.type, 'counter');
  assert.equal(sampleValue(parsed, `${src}source_record_poll_total`, labels), 16);
  assert.equal(sampleValue(parsed, `${src}source_record_write_total`, labels), 16);
  assert.equal(sampleValue(parsed, `${src}poll_batch_avg_time_ms`, labels), 3);
  assert.equal(sampleValue(parsed, `${src}transaction_size_avg`, labels), 8);
  assert.equal(sampleValue(parsed, `${src}transaction_size_max`, labels), 10);
  assert.equal(sampleValue(parsed, `${src}transaction_size_min`, labels), 6);
  assert.equal(sampleValue(parsed, 'kafka_connect_connector_task_metrics_offset_commit_completion_total', labels), 2);
  assert.equal(sampleValue(parsed, 'kafka_connect_connector_task_metrics_offset_commit_failure_total', labels), 1);
  assert.equal(sampleValue(parsed, 'kafka_connect_connector_task_metrics_restarts_total', labels), 2);
  assert.equal(sampleValue(parsed, 'kafka_connect_connector_task_metrics_status', { ...labels, status: 'running' }), 1);
  assert.equal(sampleValue(parsed, 'kafka_connect_connector_task_metrics_status', { ...labels, status: 'failed' }), 0);
  assert.equal(sampleValue(parsed, 'kafka_connect_connector_metrics_status', { connector: 'orders', status: 'running' }), 1);
  assert.ok(sampleValue(parsed, `${src}source_record_poll_rate`, labels)! > 0);

  m0.recordPoll(4, 1, 9_800);
  const again = parsePrometheusText(await metrics.text());
  assert.equal(sampleValue(again, `${src}source_record_poll_total`, labels), 20, 'a scrape reads the current counters');
});

test('series of a removed connector disappear; status reflects state changes', async () => {
  const { view, metrics } = setup();
  view[0]!.tasks[0]!.state = 'PAUSED';
  let parsed = parsePrometheusText(await metrics.text());
  assert.equal(sampleValue(parsed, 'kafka_connect_connector_task_metrics_status', { connector: 'orders', task: '0', status: 'paused' }), 1);
  view.length = 0;
  parsed = parsePrometheusText(await metrics.text());
  assert.equal(sampleValue(parsed, 'kafka_connect_source_task_metrics_source_record_poll_total', { connector: 'orders' }), undefined);
  assert.equal(sampleValue(parsed, 'kafka_connect_worker_metrics_connector_count'), 0);
});

test('connectors export their own gauges and counters through the task facade, labelled by connector and task', async () => {
  const { metrics } = setup();
  const t0 = metrics.facade('pika', 0);
  const t1 = metrics.facade('pika', 1);
  t0.gauge('pika_binlog_lag_bytes', 'Bytes behind the master', ['db']).set(1234, { db: 'db0' });
  t1.gauge('pika_binlog_lag_bytes', 'Bytes behind the master', ['db']).set(5, { db: 'db1' });
  const reconnects = t0.counter('pika_reconnects_total', 'Reconnects to the master');
  reconnects.inc();
  reconnects.inc(2);
  const parsed = parsePrometheusText(await metrics.text());
  assert.equal(parsed.get('pika_binlog_lag_bytes')?.type, 'gauge');
  assert.equal(sampleValue(parsed, 'pika_binlog_lag_bytes', { connector: 'pika', task: '0', db: 'db0' }), 1234);
  assert.equal(sampleValue(parsed, 'pika_binlog_lag_bytes', { connector: 'pika', task: '1', db: 'db1' }), 5);
  assert.equal(sampleValue(parsed, 'pika_reconnects_total', { connector: 'pika', task: '0' }), 3);

  metrics.forgetConnector('pika');
  const after = parsePrometheusText(await metrics.text());
  assert.equal(sampleValue(after, 'pika_binlog_lag_bytes', { connector: 'pika' }), undefined, 'a deleted connector leaves no series');
});

test('conflicting or invalid connector metric declarations are refused with the reason', () => {
  const { metrics } = setup();
  const f = metrics.facade('pika', 0);
  f.gauge('pika_gap_count', 'gaps');
  assert.throws(() => f.counter('pika_gap_count', 'gaps'), /already declared as a gauge/);
  assert.throws(() => f.gauge('pika-bad', 'x'), /not a valid Prometheus name/);
  assert.throws(() => f.gauge('pika_x', 'x', ['task']), /reserved/);
  assert.throws(() => f.gauge('kafka_connect_worker_metrics_task_count', 'x'), /used by the runtime/);
  const g = f.gauge('pika_y', 'y', ['db']);
  assert.throws(() => g.set(1), /label db has no value/);
  assert.throws(() => g.set(1, { db: '0', other: 'x' }), /label other was not declared/);
});

test('windowed rate: events per second over the window, diluted only by elapsed time', () => {
  const rate = new WindowedRate(10);
  assert.equal(rate.perSecond(0), 0);
  rate.record(50, 1_000);
  rate.record(50, 1_500);
  assert.equal(rate.perSecond(2_000), 100, 'one second elapsed: 100/s');
  assert.equal(rate.perSecond(5_000), 25, 'four seconds elapsed: 100 over 4 s');
  assert.equal(rate.perSecond(12_000), 0, 'events older than the window no longer count');
});
