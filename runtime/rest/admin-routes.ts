import { LOGGER_LEVELS, type LoggerLevel } from '../util/logger.ts';
import type { RestContext } from './context.ts';
import { validateConnectorConfig } from './config-infos.ts';
import { HttpError, type Router } from './router.ts';

/** `GET /`, `/health`, `/metrics`, `/connector-plugins…` and `/admin/loggers…`. */
export function addAdminRoutes(router: Router, ctx: RestContext): void {
  let clusterId: string | undefined;
  router.add('GET', '/', async () => {
    clusterId ??= await ctx.worker.admin().then((a) => a.clusterId?.()).catch(() => undefined);
    return { status: 200, body: { version: ctx.version.version, commit: ctx.version.commit, kafka_cluster_id: clusterId ?? null } };
  });
  router.add('GET', '/health', () => ({ status: 200, body: { status: 'healthy', message: 'Worker has completed startup and is ready to handle requests.' } }));
  router.add('GET', '/metrics', async () => {
    if (!ctx.metrics) throw new HttpError(404, 'Metrics are not enabled on this worker');
    return { status: 200, text: await ctx.metrics.text(), contentType: ctx.metrics.contentType };
  });

  router.add('GET', '/connector-plugins', () => {
    const plugins = ctx.worker.plugins;
    return {
      status: 200,
      body: plugins.connectorNames().map((cls) => ({ class: cls, type: 'source', version: safeVersion(() => plugins.connector(cls)!.create().version()) })),
    };
  });
  router.add('GET', '/connector-plugins/{type}/config', (req) => {
    const type = req.params.type!;
    if (!ctx.worker.plugins.connector(type)) throw new HttpError(404, `Unknown connector plugin ${type}; known: ${ctx.worker.plugins.connectorNames().join(', ')}`);
    return { status: 200, body: validateConnectorConfig(ctx.worker.plugins, type, { 'connector.class': type }).configs.map((c) => c.definition).filter((d) => d.group !== 'Connector') };
  });
  router.add('PUT', '/connector-plugins/{type}/config/validate', (req) => {
    const type = req.params.type!;
    const body = req.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'The connector config must be a JSON object of string values');
    const props: Record<string, string> = {};
    for (const [key, value] of Object.entries(body)) props[key] = value === null || typeof value === 'object' ? JSON.stringify(value) : String(value);
    const plugin = ctx.worker.plugins.connector(type);
    if (!plugin) throw new HttpError(404, `Unknown connector plugin ${type}; known: ${ctx.worker.plugins.connectorNames().join(', ')}`);
    if (props['connector.class'] === undefined) props['connector.class'] = type;
    else if (ctx.worker.plugins.connector(props['connector.class']) !== plugin) {
      throw new HttpError(400, `Included connector type ${props['connector.class']} does not match request type ${type}`);
    }
    return { status: 200, body: validateConnectorConfig(ctx.worker.plugins, type, props) };
  });

  const levels = ctx.logger.levels;
  const upper = (l: LoggerLevel) => l.toUpperCase();
  router.add('GET', '/admin/loggers', () => ({
    status: 200,
    body: Object.fromEntries(Object.entries(levels.list()).map(([n, v]) => [n, { ...v, level: upper(v.level) }])),
  }));
  // Not in Kafka Connect: the last warnings and errors, for `pika-connect diagnose`.
  router.add('GET', '/admin/recent-problems', () => ({ status: 200, body: levels.recentProblems }));
  router.add('GET', '/admin/loggers/{name}', (req) => {
    const all = levels.list();
    const found = all[req.params.name!];
    if (!found) throw new HttpError(404, `Logger ${req.params.name} not found; known: ${Object.keys(all).join(', ')}`);
    return { status: 200, body: { ...found, level: upper(found.level) } };
  });
  router.add('PUT', '/admin/loggers/{name}', (req) => {
    const level = String((req.body as { level?: unknown } | undefined)?.level ?? '').toLowerCase();
    if (!(LOGGER_LEVELS as readonly string[]).includes(level)) {
      throw new HttpError(400, `Invalid log level "${(req.body as { level?: unknown } | undefined)?.level ?? ''}"; one of ${LOGGER_LEVELS.map((l) => l.toUpperCase()).join(', ')}`);
    }
    const changed = levels.set(req.params.name!, level as LoggerLevel);
    ctx.logger.info('log level changed', { logger: req.params.name, level, loggers: changed.length });
    return { status: 200, body: changed };
  });
}

function safeVersion(get: () => string): string {
  try {
    return get();
  } catch {
    return 'unknown';
  }
}
