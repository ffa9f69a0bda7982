import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../api/errors.ts';
import type { WorkerConfig } from '../config/index.ts';
import { WorkerMetrics, type ConnectorMetricsView } from '../metrics/worker-metrics.ts';
import type { RuntimeLogger } from '../util/logger.ts';
import type { Worker } from '../worker/worker.ts';
import { addAdminRoutes } from './admin-routes.ts';
import { addConnectorRoutes } from './connector-routes.ts';
import { addOffsetsRoutes } from './offsets-routes.ts';
import { Router } from './router.ts';
import { PerKeyQueue } from './per-key-queue.ts';
import { RestServer, type BasicAuth } from './server.ts';

export { WorkerMetrics } from '../metrics/worker-metrics.ts';
export { RestServer } from './server.ts';

/** The metrics registry of a worker, reading its connectors at scrape time. Create it before the worker. */
export function workerMetrics(worker: () => Worker | undefined): WorkerMetrics {
  return new WorkerMetrics(() => {
    const w = worker();
    if (!w) return [];
    return w.connectorNames().flatMap((name): ConnectorMetricsView[] => {
      const runner = w.connector(name);
      if (!runner) return [];
      const status = runner.status();
      const metrics = new Map(runner.taskMetrics().map((t) => [t.id, t.metrics]));
      return [{
        name,
        state: status.connector.state,
        tasks: status.tasks.flatMap((t) => {
          const m = metrics.get(t.id);
          return m ? [{ id: t.id, state: t.state, restarts: t.restarts, metrics: m }] : [];
        }),
      }];
    });
  });
}

/** Builds the Kafka Connect–compatible REST API of `worker` and starts listening on its `listeners`. */
export async function startRestApi(worker: Worker, logger: RuntimeLogger, metrics?: WorkerMetrics): Promise<RestServer> {
  const restLogger = logger.child({ component: 'rest' });
  const router = new Router();
  let workerId = '';
  const ctx = { worker, logger: restLogger, workerId: () => workerId, version: versionInfo(), lifecycle: new PerKeyQueue(), ...(metrics ? { metrics } : {}) };
  addAdminRoutes(router, ctx);
  addConnectorRoutes(router, ctx);
  addOffsetsRoutes(router, ctx);
  const auth = basicAuth(worker.config);
  const server = new RestServer(router, { listeners: worker.config.listeners, logger: restLogger, ...(auth ? { auth } : {}) });
  const urls = await server.start();
  workerId = new URL(urls[0]!).host;
  restLogger.info('REST API listening', { urls, basic_auth: auth !== undefined });
  return server;
}

export function basicAuth(config: WorkerConfig): BasicAuth | undefined {
  const user = config.raw['rest.basic.auth.user'];
  const password = config.raw['rest.basic.auth.password'];
  if (user === undefined && password === undefined) return undefined;
  if (!user || !password) throw new ConfigError([`${config.file}: rest.basic.auth.user and rest.basic.auth.password go together; set both or neither`]);
  return { user, password };
}

let cachedVersion: { version: string; commit: string } | undefined;

/** pika-connect's version and the git commit it runs from ("unknown" outside a git checkout). */
export function versionInfo(): { version: string; commit: string } {
  if (cachedVersion) return cachedVersion;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim();
  } catch {
    // not a git checkout (installed package)
  }
  cachedVersion = { version, commit };
  return cachedVersion;
}
