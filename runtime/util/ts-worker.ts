import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on a module of this source tree, given as the URL of its `.ts` file. Run from the
 * TypeScript sources, a worker does not inherit tsx's loader: it registers it before importing the entry. Run from
 * a compiled tree (this module is `.js`), the entry's `.js` sibling starts directly.
 */
export function startTsWorker(entryTs: URL, options: WorkerOptions = {}): Worker {
  if (import.meta.url.endsWith('.js')) return new Worker(new URL(entryTs.href.replace(/\.ts$/, '.js')), options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entryTs.href)}); })`;
  return new Worker(code, { ...options, eval: true });
}
