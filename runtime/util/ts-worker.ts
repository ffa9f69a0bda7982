import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on a module of this source tree, given as the URL of its `.ts` file. Run from the
 * TypeScript sources, a worker does not inherit tsx's loader: it registers it before importing the entry. Run from
 * a compiled tree (this module is `.js`), the entry's `.js` sibling starts directly.
 */
export function startTsWorker(entryTs: URL, options: WorkerOptions = {}): Worker {
  if (compiledTree()) return new Worker(compiledEntry(entryTs), options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entryTs.href)}); })`;
  return new Worker(code, { ...options, eval: true });
}

const bundles = new Map<string, Promise<string>>();

/**
 * Starts a worker thread on a self-contained module (it imports only other modules and packages, and reads no file
 * relative to its own URL): run from the TypeScript sources, the module and its imports are bundled into one
 * script (once per process), so the thread runs without a TypeScript loader of its own; it starts about twice as
 * fast and takes ~15 MiB less than through `startTsWorker` (measured on the dump's block thread).
 */
export async function startBundledWorker(entryTs: URL, options: WorkerOptions = {}): Promise<Worker> {
  if (compiledTree()) return new Worker(compiledEntry(entryTs), options);
  let code = bundles.get(entryTs.href);
  if (!code) {
    code = bundle(entryTs);
    bundles.set(entryTs.href, code);
    code.catch(() => bundles.delete(entryTs.href));
  }
  return new Worker(new URL(`data:text/javascript;base64,${Buffer.from(await code).toString('base64')}`), options);
}

async function bundle(entryTs: URL): Promise<string> {
  const { build } = await import('esbuild');
  const out = await build({ entryPoints: [fileURLToPath(entryTs)], bundle: true, format: 'esm', platform: 'node', target: 'node20', mainFields: ['module', 'main'], write: false, logLevel: 'silent' });
  return out.outputFiles[0]!.text;
}

function compiledTree(): boolean {
  return import.meta.url.endsWith('.js');
}

function compiledEntry(entryTs: URL): URL {
  return new URL(entryTs.href.replace(/\.ts$/, '.js'));
}
