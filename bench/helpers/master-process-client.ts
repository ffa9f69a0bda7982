/** Parent side of bench/helpers/pika-master-process.ts: spawn, read its JSON lines, send commands. */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface MasterReady {
  resp: number;
  repl: number;
  dir: string;
  replicationId: string;
  preloaded: number;
  preloadMs: number;
  end: { filenum: number; offset: number };
}

export interface MasterProcess {
  ready: MasterReady;
  load(rate: number, seconds: number): Promise<{ loaded: number; ms: number }>;
  rss(): Promise<number>;
  /** User+system CPU time of the master process so far (µs). */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

export async function startMasterProcess(preload: number): Promise<MasterProcess> {
  const script = fileURLToPath(new URL('./pika-master-process.ts', import.meta.url));
  // e.g. BENCH_MASTER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the master process
  const nodeArgs = (process.env.BENCH_MASTER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, String(preload)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting: ((message: Record<string, unknown>) => void)[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code) => {
    for (const w of waiting.splice(0)) w({ error: `test master process exited with code ${code}` });
  });
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => waiting.shift()?.({ ...(JSON.parse(line) as Record<string, unknown>) }));
  const next = async (): Promise<Record<string, unknown>> => {
    const message = await new Promise<Record<string, unknown>>((resolve) => waiting.push(resolve));
    if (typeof message.error === 'string') throw new Error(message.error);
    return message;
  };
  const request = (line: string): Promise<Record<string, unknown>> => {
    const reply = next();
    child.stdin!.write(`${line}\n`);
    return reply;
  };
  const ready = (await next()) as unknown as MasterReady;
  return {
    ready,
    load: async (rate, seconds) => (await request(`load ${rate} ${seconds}`)) as unknown as { loaded: number; ms: number },
    rss: async () => (await request('rss')).rss as number,
    cpuMicros: async () => (await request('cpu')).cpuMicros as number,
    stop: async () => {
      child.stdin!.write('stop\n');
      await exited;
    },
  };
}
