import { Worker } from 'node:worker_threads';
import type { ThreadSetup } from './protocol.ts';

/**
 * Starts a task thread. The sources are TypeScript run through tsx, whose loader a worker does not inherit: the
 * worker registers it first (as the dump lane pool does). A compiled tree (.js) starts its entry directly.
 */
export function startTaskThread(setup: ThreadSetup): Worker {
  const compiled = import.meta.url.endsWith('.js');
  const entry = new URL(compiled ? './task-thread.js' : './task-thread.ts', import.meta.url);
  if (compiled) return new Worker(entry, { workerData: setup, name: `task ${setup.connectorName}-${setup.taskId}` });
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(code, { eval: true, workerData: setup, name: `task ${setup.connectorName}-${setup.taskId}` });
}
