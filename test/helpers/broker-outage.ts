// A real Kafka outage for tests: the broker scripts/kafka.sh started is SIGKILLed and later started again with the
// same command line on its kept data; the new pid goes back into its pid file, so `scripts/kafka.sh stop` still
// stops it.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kafkaClient } from './kafka.ts';

const KAFKA_RUN = fileURLToPath(new URL('../../.cache/kafka-run/', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The pid file of node 1 of the broker scripts/kafka.sh runs as KAFKA_NAME `name`; undefined when there is none. */
export function brokerPidFile(name: string): string | undefined {
  const file = join(KAFKA_RUN, name, 'node-1', 'pid');
  return existsSync(file) ? file : undefined;
}

/** The port of the first broker of a bootstrap list (`host:port,…`). */
export const bootstrapPort = (bootstrap: string): string => bootstrap.split(',')[0]!.split(':').at(-1)!;

export interface KilledBroker {
  /** Starts the broker again (same command line, working directory and log file) and waits until it answers. */
  restart(): Promise<void>;
  /** When `restart` started the process (Date.now(); 0 before). */
  readonly restartedAt: number;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** SIGKILLs the broker of `pidFile` and resolves once the process is gone. */
export async function killBroker(pidFile: string): Promise<KilledBroker> {
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  const cwd = readlinkSync(`/proc/${pid}/cwd`);
  process.kill(pid, 'SIGKILL');
  while (alive(pid)) await sleep(50);
  const broker = {
    restartedAt: 0,
    async restart(): Promise<void> {
      broker.restartedAt = Date.now();
      const out = openSync(join(dirname(pidFile), 'broker.log'), 'a');
      const child = spawn(argv[0]!, argv.slice(1), { cwd, detached: true, stdio: ['ignore', out, out] });
      child.unref();
      closeSync(out);
      writeFileSync(pidFile, `${child.pid}\n`);
      await waitBrokerAnswers();
    },
  };
  return broker;
}

/** Resolves once the broker answers a cluster description (at most `limitMs`). */
export async function waitBrokerAnswers(limitMs = 120_000): Promise<void> {
  const admin = kafkaClient('broker-outage-wait').admin();
  const deadline = Date.now() + limitMs;
  for (;;) {
    try {
      await admin.connect();
      await admin.describeCluster();
      break;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the broker did not come back: ${(error as Error).message}`);
      await sleep(500);
    }
  }
  await admin.disconnect();
}
