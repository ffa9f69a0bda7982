import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../bin/pika-connect.js', import.meta.url));

export function writeProperties(dir: string, name: string, props: Record<string, string | number>): string {
  const file = join(dir, name);
  writeFileSync(file, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  return file;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The worker CLI as a real child process, so a test can SIGKILL it. Output goes to `logFile`. */
export class WorkerProcess {
  readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private output = '';

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk: Buffer): void => { this.output = (this.output + chunk.toString()).slice(-200_000); };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get log(): string {
    return this.output;
  }

  kill(signal: NodeJS.Signals): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }

  wait(): Promise<number | null> {
    return this.exited;
  }
}

export function readCheckpoint(dir: string, connector: string, task: number): { offsets: Array<{ partition: Record<string, unknown>; offset: Record<string, unknown> }> } | undefined {
  const file = join(dir, `${connector}-${task}.json`);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined; // being replaced right now
  }
}

export { seededRandom } from './random.ts';

/** The first URL of the worker's REST API (its log line "REST API listening"; the worker needs `listeners=…`). */
export async function restUrl(worker: WorkerProcess, limitMs = 60_000): Promise<string> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const line = worker.log.split('\n').find((l) => l.includes('"REST API listening"'));
    if (line) return (JSON.parse(line) as { urls: string[] }).urls[0]!;
    if (worker.child.exitCode !== null || Date.now() > deadline) throw new Error(`no REST API; log tail:\n${worker.log.slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
