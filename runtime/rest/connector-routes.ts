import { ConfigError } from '../api/errors.ts';
import { parseConnectorProps, type ConnectorConfig } from '../config/index.ts';
import type { ConnectorRunner, ConnectorStatus } from '../worker/connector-runner.ts';
import type { TaskStatus } from '../worker/task-supervisor.ts';
import type { RestContext } from './context.ts';
import { maskConfig } from './masking.ts';
import { HttpError, type RestReply, type RestRequest, type Router } from './router.ts';

/** Kafka Connect's connector paths: list, create/update, status, lifecycle (pause/resume/stop/restart), delete. */
export function addConnectorRoutes(router: Router, ctx: RestContext): void {
  const runner = (req: RestRequest): ConnectorRunner => {
    const found = ctx.worker.connector(req.params.name!);
    if (!found) throw new HttpError(404, `Connector ${req.params.name} not found`);
    return found;
  };
  const info = (r: ConnectorRunner) => ({
    name: r.name,
    config: maskConfig(r.config.props),
    tasks: r.taskConfigs().map((_, task) => ({ connector: r.name, task })),
    type: 'source',
  });
  const status = (r: ConnectorRunner) => statusBody(r.status(), ctx.workerId());
  const bounded = (work: Promise<void>) => withTimeout(work, ctx.worker.config.taskShutdownGracefulTimeoutMs);
  // Lifecycle requests for one connector run one after the other (e.g. a resume sent while a stop is under way).
  const serial = <T>(name: string, work: () => Promise<T>): Promise<T> => ctx.lifecycle.run(name, work);

  router.add('GET', '/connectors', (req) => {
    const expand = req.query.getAll('expand');
    const names = ctx.worker.connectorNames().sort();
    if (expand.length === 0) return ok(names);
    const body: Record<string, Record<string, unknown>> = {};
    for (const name of names) {
      const r = ctx.worker.connector(name)!;
      body[name] = {};
      if (expand.includes('status')) body[name]!.status = status(r);
      if (expand.includes('info')) body[name]!.info = info(r);
    }
    return ok(body);
  });

  router.add('POST', '/connectors', async (req) => {
    const { name, config } = (req.body ?? {}) as { name?: unknown; config?: unknown };
    if (typeof name !== 'string' || name === '') throw new HttpError(400, 'Connector name must be given: {"name": "...", "config": {...}}');
    return serial(name, async () => {
      if (ctx.worker.connector(name)) throw new HttpError(409, `Connector ${name} already exists`);
      const parsed = parseConfig(ctx, name, config);
      return { status: 201, body: info(ctx.worker.addConnector(parsed)) };
    });
  });

  router.add('GET', '/connectors/{name}', (req) => ok(info(runner(req))));
  router.add('GET', '/connectors/{name}/config', (req) => ok(maskConfig(runner(req).config.props)));
  router.add('GET', '/connectors/{name}/status', (req) => ok(status(runner(req))));
  router.add('GET', '/connectors/{name}/tasks', (req) => {
    const r = runner(req);
    return ok(r.taskConfigs().map((config, task) => ({ id: { connector: r.name, task }, config: maskConfig(config) })));
  });
  router.add('GET', '/connectors/{name}/tasks/{task}/status', (req) => {
    const r = runner(req);
    const task = r.status().tasks.find((t) => String(t.id) === req.params.task);
    if (!task) throw new HttpError(404, `Task ${req.params.task} of connector ${r.name} not found`);
    return ok(taskBody(task, ctx.workerId()));
  });

  router.add('PUT', '/connectors/{name}/config', (req) => serial(req.params.name!, async () => {
    const name = req.params.name!;
    const parsed = parseConfig(ctx, name, req.body);
    const existing = ctx.worker.connector(name);
    if (!existing) return { status: 201, body: info(ctx.worker.addConnector(parsed)) };
    const target = existing.targetState;
    await bounded(ctx.worker.removeConnector(name));
    return ok(info(ctx.worker.addConnector(parsed, target)));
  }));

  router.add('PUT', '/connectors/{name}/pause', (req) => serial(req.params.name!, async () => {
    runner(req).pause();
    return { status: 202 };
  }));
  router.add('PUT', '/connectors/{name}/resume', (req) => serial(req.params.name!, async () => {
    runner(req).resume();
    return { status: 202 };
  }));
  router.add('PUT', '/connectors/{name}/stop', (req) => serial(req.params.name!, async () => {
    await bounded(runner(req).stopKeepingConfig());
    return { status: 204 };
  }));
  router.add('POST', '/connectors/{name}/restart', (req) => serial(req.params.name!, async () => {
    const r = runner(req);
    const includeTasks = flag(req, 'includeTasks');
    const onlyFailed = flag(req, 'onlyFailed');
    await bounded(r.restart({ includeTasks, onlyFailed }));
    // Kafka Connect answers the plain form with 204 and the KIP-745 form with 202 and the status.
    if (!req.query.has('includeTasks') && !req.query.has('onlyFailed')) return { status: 204 };
    return { status: 202, body: status(r) };
  }));
  router.add('POST', '/connectors/{name}/tasks/{task}/restart', (req) => serial(req.params.name!, async () => {
    const r = runner(req);
    const id = Number(req.params.task);
    if (!Number.isInteger(id) || !(await r.restartTask(id))) throw new HttpError(404, `Task ${req.params.task} of connector ${r.name} not found`);
    return { status: 204 };
  }));
  router.add('DELETE', '/connectors/{name}', (req) => serial(req.params.name!, async () => {
    const name = runner(req).name;
    await bounded(ctx.worker.removeConnector(name));
    ctx.metrics?.forgetConnector(name);
    return { status: 204 };
  }));
}

export function statusBody(s: ConnectorStatus, workerId: string): Record<string, unknown> {
  return {
    name: s.name,
    connector: { state: s.connector.state, worker_id: workerId, ...(s.connector.trace ? { trace: s.connector.trace } : {}) },
    tasks: s.tasks.map((t) => taskBody(t, workerId)),
    type: s.type,
  };
}

function taskBody(t: TaskStatus, workerId: string): Record<string, unknown> {
  return { id: t.id, state: t.state, worker_id: workerId, ...(t.trace ? { trace: t.trace } : {}), restarts: t.restarts, connector: t.connector };
}

function parseConfig(ctx: RestContext, name: string, body: unknown): ConnectorConfig {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'The connector config must be a JSON object of string values');
  const props: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (value === null || typeof value === 'object') throw new HttpError(400, `Config ${key} must be a string`);
    props[key] = String(value);
  }
  if (props.name !== undefined && props.name !== name) {
    throw new HttpError(400, `Connector name configuration (${props.name}) doesn't match connector name in the URL (${name})`);
  }
  props.name = name;
  const plugins = ctx.worker.plugins;
  const lookup = Object.assign((cls: string) => plugins.connector(cls), { knownNames: () => plugins.connectorNames() });
  let config: ConnectorConfig;
  try {
    config = parseConnectorProps(props, lookup, { source: `connector ${name}` });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new HttpError(400, `Connector configuration is invalid and contains the following ${error.problems.length} error(s):\n${error.problems.join('\n')}`);
  }
  if (config.exactlyOnceSupport === 'required' && ctx.worker.config.exactlyOnceSourceSupport !== 'enabled') {
    throw new HttpError(400, `exactly.once.support=required, but the worker has exactly.once.source.support=${ctx.worker.config.exactlyOnceSourceSupport}`);
  }
  return config;
}

function flag(req: RestRequest, name: string): boolean {
  const v = req.query.get(name);
  if (v === null) return false;
  if (v === '' || v.toLowerCase() === 'true') return true;
  if (v.toLowerCase() === 'false') return false;
  throw new HttpError(400, `Query parameter ${name} must be true or false, got "${v}"`);
}

function ok(body: unknown): RestReply {
  return { status: 200, body };
}

/** Shutting tasks down is bounded like the worker's own shutdown; a task still busy then is fenced at its next start. */
async function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); })]);
  clearTimeout(timer);
}
