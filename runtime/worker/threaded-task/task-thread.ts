// Entry point of a task thread (started by thread-start.ts): runs one TaskThreadLoop over the parent port.
import { parentPort, workerData } from 'node:worker_threads';
import { bundledPlugins } from '../../bundled-plugins.ts';
import { asMainMessage, type ThreadSetup } from './protocol.ts';
import { TaskThreadLoop } from './thread-loop.ts';

const port = parentPort;
if (!port) throw new Error('task-thread.ts runs only as a worker thread');
const loop = new TaskThreadLoop(workerData as ThreadSetup, { post: (message, transfer) => port.postMessage(message, transfer ?? []) }, bundledPlugins());
port.on('message', (message: unknown) => loop.handle(asMainMessage(message)));
await loop.run();
port.close();
