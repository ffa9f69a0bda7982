// Entry point of scripts/chaos.sh: node --import tsx test/chaos/main.ts [--short] [--classes a,b] [--kills N] [--out file.md]
// Needs KAFKA_BOOTSTRAP (single broker); CHAOS_CLUSTER_BOOTSTRAP + CHAOS_CLUSTER_NAME for the cluster classes.
// Prints one line of figures per fault class; exit code 1 when any count that must be 0 is not.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { FULL_PLAN, HEADER, SHORT_PLAN, failed, formatLine, lineCells, runSuite, type ClassLine, type ClassName } from './suite.ts';
import { killAllWorkers } from './chaos-run.ts';

// The cluster classes last: the slowest on a loaded machine, and the other figures are in the result file by then.
const ALL: ClassName[] = ['runtime-kill', 'master', 'connection', 'checkpoint', 'kafka-outage', 'broker-kill', 'cluster-restart'];
/** Not in --short (nor CI): the cluster classes and kafka-outage (minutes each). */
const SHORT_EXCLUDED: ClassName[] = ['broker-kill', 'cluster-restart', 'kafka-outage'];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

const short = process.argv.includes('--short');
const plan = { ...(short ? SHORT_PLAN : FULL_PLAN) };
const kills = arg('--kills');
if (kills) {
  const n = Number(kills);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--kills must be a positive integer, got ${kills}`);
  plan.runtimeRounds = Math.max(1, Math.round(n / 10));
  plan.runtimeKills = Math.ceil(n / plan.runtimeRounds);
}
const classes = (arg('--classes')?.split(',') ?? (short ? ALL.filter((c) => !SHORT_EXCLUDED.includes(c)) : ALL)) as ClassName[];
for (const c of classes) if (!ALL.includes(c)) throw new Error(`unknown class ${c}; known: ${ALL.join(', ')}`);
const bootstrap = process.env.KAFKA_BOOTSTRAP;
if (!bootstrap) throw new Error('KAFKA_BOOTSTRAP is not set (run through scripts/chaos.sh)');
const cluster = process.env.CHAOS_CLUSTER_BOOTSTRAP && process.env.CHAOS_CLUSTER_NAME
  ? { bootstrap: process.env.CHAOS_CLUSTER_BOOTSTRAP, name: process.env.CHAOS_CLUSTER_NAME } : undefined;
const seed = Number(arg('--seed') ?? 2026_1122);

// Ctrl-C / SIGTERM: no worker child process outlives the run.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllWorkers();
    process.exit(130);
  });
}

const started = new Date();
const load: number[][] = [loadavg()];
const sampler = setInterval(() => load.push(loadavg()), 10_000);
const out = arg('--out');
const lines = await runSuite({ bootstrap, cluster, classes, plan, seed, log: (l) => console.log(l), onClass: (done) => { if (out) writeResult(out, done, false); } });
clearInterval(sampler);

console.log('\n' + lines.map(formatLine).join('\n'));
const bad = lines.filter(failed);
if (out) {
  writeResult(out, lines, true);
  console.log(`figures written to ${out}`);
}
if (bad.length > 0) {
  console.log(`FAILED: ${bad.map((l) => l.name).join(', ')}`);
  process.exitCode = 1;
}

/** The result file; rewritten after every class, so a run cut short still leaves the classes it finished. */
function writeResult(file: string, lines: ClassLine[], complete: boolean): void {
  const ended = new Date();
  const bad = lines.filter(failed);
  const avg = (i: number): string => (load.reduce((s, l) => s + l[i]!, 0) / load.length).toFixed(2);
  const row = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  const md = [
    `# Chaos run ${started.toISOString().slice(0, 10)}`,
    '',
    `Command: \`${process.env.CHAOS_COMMAND ?? `node --import tsx test/chaos/main.ts ${process.argv.slice(2).join(' ')}`}\``,
    `Started ${started.toISOString()}, took ${((ended.getTime() - started.getTime()) / 60000).toFixed(1)} min; seed ${seed}; plan ${JSON.stringify(plan)}.`,
    `Machine: 2 cores shared with other engineers' jobs; load average (1 min) sampled every 10 s: mean ${avg(0)}, max ${Math.max(...load.map((l) => l[0]!)).toFixed(2)}.`,
    `Kafka: single broker ${bootstrap}${cluster ? `; 3-node KRaft cluster ${cluster.bootstrap} (RF 3, min.insync.replicas=2)` : ''}.`,
    '',
    row(HEADER),
    row(HEADER.map(() => '---')),
    ...lines.map((l) => row(lineCells(l))),
    '',
    'What was injected per class:',
    '',
    ...lines.map((l) => `- **${l.name}**: ${l.result.detail}${l.result.failures.length ? ` — FAILURES: ${l.result.failures.join('; ')}` : ''}`),
    '',
    `Result: ${bad.length === 0 ? 'every count that must be 0 is 0' : `FAILED in ${bad.map((l) => l.name).join(', ')}`}${complete ? '' : ` (run in progress: ${lines.length} of ${classes.length} classes done)`}.`,
    '',
  ].join('\n');
  writeFileSync(file, md);
}
