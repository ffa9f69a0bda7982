// The chaos suite: runs the fault classes of a plan and formats one line of figures per class.
import { brokerKills, checkpointFaults, clusterRestarts, connectionFaults, masterFaults, runtimeKills, type ClassResult } from './faults.ts';
import type { ChaosOptions } from './chaos-run.ts';
import { kafkaOutage } from './kafka-outage.ts';

export type ClassName = 'runtime-kill' | 'broker-kill' | 'cluster-restart' | 'master' | 'connection' | 'checkpoint' | 'kafka-outage';

export interface Plan {
  /** runtime-kill: connectors (snapshots) × kills per connector. */
  runtimeRounds: number;
  runtimeKills: number;
  brokerKills: number;
  clusterRestarts: number;
  masterFaults: number;
  connectionFaults: number;
  checkpointFaults: number;
  prefillKeys: number;
  writesPerSecond: number;
}

export const FULL_PLAN: Plan = {
  runtimeRounds: 10, runtimeKills: 10, brokerKills: 3, clusterRestarts: 2, masterFaults: 9, connectionFaults: 12, checkpointFaults: 4,
  prefillKeys: 3000, writesPerSecond: 200,
};

export const SHORT_PLAN: Plan = {
  runtimeRounds: 1, runtimeKills: 4, brokerKills: 0, clusterRestarts: 0, masterFaults: 1, connectionFaults: 3, checkpointFaults: 2,
  prefillKeys: 600, writesPerSecond: 100,
};

export interface SuiteOptions {
  bootstrap: string;
  /** The 3-node cluster (scripts/kafka.sh start --cluster 3) for broker-kill and cluster-restart; skipped without it. */
  cluster?: { bootstrap: string; name: string };
  classes: ClassName[];
  plan: Plan;
  seed: number;
  log: (line: string) => void;
  /** Called after each class with the lines so far. */
  onClass?: (lines: ClassLine[]) => void;
}

export interface ClassLine {
  /** The class, or class+variant for a class with sub-runs (kafka-outage+spill, kafka-outage-nospill). */
  name: string;
  result: ClassResult;
}

function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]; // nearest rank
}

const seconds = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}s`);

export const HEADER = ['class', 'faults', 'written', 'in Kafka', 'lost', 'duplicated', 'out of order', 'aborted reads', 'torn txns', 'recovery p50/max'];

export function lineCells({ name, result }: ClassLine): string[] {
  const f = result.figures;
  return [name, String(result.faults), String(f.written), String(f.inKafka), String(f.lost), String(f.duplicated), String(f.outOfOrder), String(f.aborted), String(f.torn),
    `${seconds(percentile(result.recoveriesMs, 50))}/${seconds(percentile(result.recoveriesMs, 100))}`];
}

export function formatLine(line: ClassLine): string {
  return lineCells(line).map((c, i) => `${HEADER[i]}=${c}`).join(' ').replace(/^class=/, '');
}

export const failed = ({ result }: ClassLine): boolean => {
  const f = result.figures;
  return f.lost + f.duplicated + f.outOfOrder + f.aborted + f.torn > 0 || result.failures.length > 0;
};

export async function runSuite(options: SuiteOptions): Promise<ClassLine[]> {
  const { plan } = options;
  const base = (bootstrap: string, seed: number): ChaosOptions => ({ bootstrap, seed, prefillKeys: plan.prefillKeys, writesPerSecond: plan.writesPerSecond, log: options.log });
  const lines: ClassLine[] = [];
  for (const name of options.classes) {
    const started = Date.now();
    options.log(`== ${name} (${new Date().toISOString()})`);
    const single = base(options.bootstrap, options.seed + lines.length * 1000);
    const results: [string, ClassResult][] = [];
    if (name === 'kafka-outage') {
      results.push(['kafka-outage+spill', await kafkaOutage(single, true)]);
      results.push(['kafka-outage-nospill', await kafkaOutage({ ...single, seed: single.seed + 500 }, false)]);
    } else if (name === 'broker-kill' || name === 'cluster-restart') {
      const cluster = options.cluster;
      if (!cluster) { options.log(`   skipped: no 3-node cluster`); continue; }
      // The checking clients (test/helpers/kafka.ts) read KAFKA_BOOTSTRAP: point them at the cluster meanwhile.
      const previous = process.env.KAFKA_BOOTSTRAP;
      process.env.KAFKA_BOOTSTRAP = cluster.bootstrap;
      try {
        const opts = base(cluster.bootstrap, options.seed + lines.length * 1000);
        results.push([name, name === 'broker-kill' ? await brokerKills(opts, cluster.name, plan.brokerKills) : await clusterRestarts(opts, cluster.name, plan.clusterRestarts)]);
      } finally {
        process.env.KAFKA_BOOTSTRAP = previous;
      }
    } else if (name === 'runtime-kill') results.push([name, await runtimeKills(single, plan.runtimeRounds, plan.runtimeKills)]);
    else if (name === 'master') results.push([name, await masterFaults(single, plan.masterFaults)]);
    else if (name === 'connection') results.push([name, await connectionFaults(single, plan.connectionFaults)]);
    else results.push([name, await checkpointFaults(single, plan.checkpointFaults)]);
    for (const [lineName, result] of results) {
      const line = { name: lineName, result };
      lines.push(line);
      options.log(`   ${lineName}: ${result.detail}; ${((Date.now() - started) / 1000).toFixed(0)} s`);
      for (const note of [...result.figures.notes, ...result.failures].slice(0, 10)) options.log(`   ! ${note}`);
      options.log(formatLine(line));
    }
    options.onClass?.(lines);
  }
  return lines;
}
