import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../../util/ts-worker.ts';
import type { ThreadSetup } from './protocol.ts';

/** Starts a task thread (`task-thread.ts`) for one task. */
export function startTaskThread(setup: ThreadSetup): Worker {
  return startTsWorker(new URL('./task-thread.ts', import.meta.url), { workerData: setup, name: `task ${setup.connectorName}-${setup.taskId}` });
}
