import { parseConnectorProps, parseWorkerProps, type ConnectorConfig, type WorkerConfig } from '../../runtime/config/index.ts';
import { bundledPlugins } from '../../runtime/bundled-plugins.ts';
import type { PluginRegistry } from '../../runtime/plugins.ts';
import { createRootLogger } from '../../runtime/util/logger.ts';
import { Worker } from '../../runtime/worker/worker.ts';
import { bootstrap, uniqueName } from './kafka.ts';
import { tempDir } from './worker-process.ts';

export const plugins: PluginRegistry = bundledPlugins();

/** A worker config on the test broker with its own offsets topic and checkpoint dir, no REST port. */
export function testWorkerConfig(prefix: string, extra: Record<string, string> = {}): WorkerConfig {
  return parseWorkerProps({
    'bootstrap.servers': bootstrap(),
    'offset.storage.topic': uniqueName(`${prefix}-offsets`),
    'offset.storage.partitions': '1',
    'offset.checkpoint.dir': tempDir(`pc-${prefix}-`),
    'value.converter.schemas.enable': 'false',
    listeners: 'http://127.0.0.1:0',
    ...extra,
  });
}

export function testConnectorConfig(props: Record<string, string>): ConnectorConfig {
  return parseConnectorProps(props, (cls) => plugins.connector(cls));
}

export function startTestWorker(config: WorkerConfig): Worker {
  return new Worker(config, plugins, createRootLogger('error'));
}

/** Waits until the connector's tasks committed `count` records in total; fails with the counters after `limitMs`. */
export async function waitCommitted(worker: Worker, connector: string, count: number, limitMs = 120_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  const total = () => worker.connector(connector)!.taskMetrics().reduce((n, t) => n + t.metrics.recordsCommitted, 0);
  while (total() < count) {
    if (Date.now() > deadline) throw new Error(`timed out at ${total()} of ${count} committed records of ${connector}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
