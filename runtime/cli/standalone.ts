import { ConfigError, ConnectError } from '../api/errors.ts';
import { loadConnectorConfig, loadWorkerConfig, readPropertiesFile, type ConnectorConfig, type WorkerConfig } from '../config/index.ts';
import { bundledPlugins } from '../bundled-plugins.ts';
import type { PluginRegistry } from '../plugins.ts';
import { createRootLogger, type LogLevel, type RuntimeLogger } from '../util/logger.ts';
import { Worker } from '../worker/worker.ts';
import { securityProblems } from '../kafka/security.ts';
import { basicAuth, startRestApi, workerMetrics, type RestServer } from '../rest/index.ts';

/** `pika-connect worker.properties connector.properties…`: runs until SIGTERM/SIGINT; returns the exit code. */
export async function runStandalone(workerFile: string, connectorFiles: string[]): Promise<number> {
  const plugins = bundledPlugins();
  let worker: WorkerConfig;
  let connectors: ConnectorConfig[];
  try {
    ({ worker, connectors } = loadAll(workerFile, connectorFiles, plugins));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const logger = createRootLogger(startLogLevel(worker.logLevel));
  return runWorkerUntilSignal(worker, connectors, plugins, logger);
}

/** `PIKA_CONNECT_LOG_LEVEL` (error|warn|info|debug) wins over the worker's log.level; a bad value is said, not ignored. */
function startLogLevel(configured: LogLevel): LogLevel {
  const env = process.env.PIKA_CONNECT_LOG_LEVEL?.trim().toLowerCase();
  if (env === undefined || env === '') return configured;
  if (env === 'error' || env === 'warn' || env === 'info' || env === 'debug') return env;
  process.stderr.write(`PIKA_CONNECT_LOG_LEVEL=${process.env.PIKA_CONNECT_LOG_LEVEL} is not one of error, warn, info, debug; using log.level=${configured}\n`);
  return configured;
}

/** Loads every file and reports the problems of all of them at once. */
export function loadAll(workerFile: string, connectorFiles: string[], plugins: PluginRegistry): { worker: WorkerConfig; connectors: ConnectorConfig[] } {
  const problems: string[] = [];
  let worker: WorkerConfig | undefined;
  const connectors: ConnectorConfig[] = [];
  try {
    worker = loadWorkerConfig(workerFile);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  const lookup = Object.assign((cls: string) => plugins.connector(cls), { knownNames: () => plugins.connectorNames() });
  const siblingNames = connectorFiles.map((file) => readPropertiesFile(file).entries.get('name')?.value.trim() ?? '').filter(Boolean);
  for (const file of connectorFiles) {
    try {
      connectors.push(loadConnectorConfig(file, lookup, process.env, { siblingNames }));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  const names = new Map<string, string>();
  for (const c of connectors) {
    const other = names.get(c.name);
    if (other) problems.push(`${c.file}: name ${c.name} is already used by ${other}; every connector needs its own name`);
    names.set(c.name, c.file);
  }
  if (worker && worker.exactlyOnceSourceSupport !== 'enabled') {
    for (const c of connectors) {
      if (c.exactlyOnceSupport === 'required') problems.push(`${c.file}: exactly.once.support=required, but the worker has exactly.once.source.support=${worker.exactlyOnceSourceSupport}; set it to enabled in ${worker.file}`);
    }
  }
  if (worker) problems.push(...securityProblems(worker.securityProps, worker.file));
  if (worker) {
    try {
      basicAuth(worker);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length || !worker) throw new ConfigError(problems, 'Invalid configuration');
  return { worker, connectors };
}

export async function runWorkerUntilSignal(config: WorkerConfig, connectors: ConnectorConfig[], plugins: PluginRegistry, logger: RuntimeLogger): Promise<number> {
  let worker: Worker | undefined;
  const metrics = workerMetrics(() => worker);
  worker = new Worker(config, plugins, logger, { connectorMetrics: (connector, task) => metrics.facade(connector, task) });
  let rest: RestServer | undefined;
  try {
    await worker.start(connectors);
    rest = await startRestApi(worker, logger, metrics).catch((error: Error) => {
      // Only an explicitly configured listener is mandatory; the default port may be taken by another worker.
      if (config.raw.listeners !== undefined) throw error;
      logger.warn(`${error.message}; running without the REST API and /metrics. Set listeners= to choose a port (0 = any free port)`);
      return undefined;
    });
  } catch (error) {
    logger.error(`worker could not start: ${(error as Error).message}`);
    await worker.stop().catch(() => {});
    return error instanceof ConnectError && error.code === 'CONFIG' ? 2 : 1;
  }
  logger.info('worker started', { connectors: connectors.map((c) => c.name) });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info('stopping: committing open transactions', { signal });
  await rest?.close();
  await worker.stop();
  logger.info('stopped');
  return 0;
}
