// CLI for the demo and manual use:
//   npx tsx test/pika-master/main.ts --port 9221 --dir /tmp/pika --dbs 2 --profile 4.0|3.5|pb-3.4|legacy-3.0|legacy-2.x \
//       [--binlog-file-size 104857600] [--expire-logs-nums 10] [--requirepass pw] [--time-scale 1] [--script file.redis]
// Prints the ports, optionally runs a redis-cli script, then serves until SIGINT/SIGTERM.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startPikaMaster } from './index.ts';
import { parseRedisCliScript } from './redis-cli-script.ts';
import { runCommands } from './script-runner.ts';
import type { Profile } from './commands/common.ts';
import type { LegacyProfile } from './legacy/legacy-replication.ts';

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got '${value}'`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' }, dir: { type: 'string' }, dbs: { type: 'string' }, profile: { type: 'string' },
      'binlog-file-size': { type: 'string' }, 'expire-logs-nums': { type: 'string' }, requirepass: { type: 'string' },
      'time-scale': { type: 'string' }, host: { type: 'string' }, script: { type: 'string' },
    },
  });
  const profile = (values.profile ?? '4.0') as Profile | LegacyProfile | 'pb-3.4';
  if (!['4.0', '3.5', 'pb-3.4', 'legacy-3.0', 'legacy-2.x'].includes(profile)) throw new Error(`--profile must be 4.0, 3.5, pb-3.4, legacy-3.0 or legacy-2.x, got '${values.profile}'`);
  const master = await startPikaMaster({
    port: intOption('port', values.port),
    dir: values.dir,
    dbs: intOption('dbs', values.dbs),
    profile,
    binlogFileSize: intOption('binlog-file-size', values['binlog-file-size']),
    expireLogsNums: intOption('expire-logs-nums', values['expire-logs-nums']),
    requirepass: values.requirepass,
    timeScale: intOption('time-scale', values['time-scale']),
    host: values.host,
  });
  console.log(JSON.stringify({ resp: master.ports.resp, repl: master.ports.repl, dir: master.dir, profile }));
  if (values.script) {
    const run = runCommands(master.core, parseRedisCliScript(readFileSync(values.script, 'utf8')));
    console.log(`ran ${run.replies.length} commands from ${values.script}`);
  }
  const shutdown = (): void => { void master.stop().then(() => process.exit(0)); };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(`pika-master: ${(err as Error).message}`);
  process.exit(1);
});
