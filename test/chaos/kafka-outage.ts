// Fault class kafka-outage: the single broker SIGKILLed and kept down until the master, writing on, purged the binlog
// files past what the connector had committed (small binlog files, few kept: longer than the binlog retention); then
// started again on its kept data with the same command line. Two sub-runs:
//   spill.enabled=true   the connector keeps acking from its local spill log: no gap, no resync snapshot, every write
//                        in Kafka exactly once afterwards
//   spill.enabled=false  the documented behaviour (docs/troubleshooting.md): a logged binlog gap (kSyncPointBePurged)
//                        and a resync snapshot of the purged DBs; the audit counts what that snapshot covers
import { readdirSync } from 'node:fs';
import { bootstrapPort, brokerPidFile as pidFileOf, killBroker } from '../helpers/broker-outage.ts';
import { tempDir } from '../helpers/worker-process.ts';
import { sleep, type ChaosOptions, type ChaosRun } from './chaos-run.ts';
import { withRun, type ClassResult } from './faults.ts';

const DBS = [0, 1];
/** Kafka stays down at least this long after the connector's task failed. */
const DOWN_AFTER_FAILURE_MS = 5000;
const PURGE_LIMIT_MS = 120_000;

/** The pid file scripts/kafka.sh keeps for the single broker scripts/chaos.sh started (KAFKA_NAME chaos-single-<port>). */
function brokerPidFile(bootstrap: string): string {
  const name = process.env.CHAOS_KAFKA_NAME ?? `chaos-single-${bootstrapPort(bootstrap)}`;
  const file = pidFileOf(name);
  if (!file) throw new Error(`kafka-outage needs the pid file of the single broker ${name} (.cache/kafka-run/${name}/node-1/pid); run it through scripts/chaos.sh or set CHAOS_KAFKA_NAME`);
  return file;
}

const oldestFile = (run: ChaosRun, db: number): number => Math.min(...run.master.core.binlogs[db]!.fileNumbers());
const ackedFile = (run: ChaosRun, db: number): number => Math.floor(Math.max(0, run.acked(db)) / 2 ** 32);
const failures = (log: string): number => (log.match(/task failed; restarting/g) ?? []).length;

/**
 * Kills the broker; waits until the task failed, DOWN_AFTER_FAILURE_MS passed and every DB's oldest binlog file is past
 * the file the connector had acked at the kill (the load writes on, with bursts to get there sooner); starts the broker
 * again. Returns the outage length and whether the master purged past the connector on every DB.
 */
async function outage(run: ChaosRun, pidFile: string): Promise<{ downMs: number; purgedPast: boolean; ackedAtKill: number[] }> {
  const ackedAtKill = DBS.map((db) => ackedFile(run, db));
  const failedBefore = failures(run.logs());
  const killedAt = Date.now();
  const broker = await killBroker(pidFile);
  let purgedPast = false;
  try {
    const deadline = Date.now() + PURGE_LIMIT_MS;
    while (failures(run.logs()) === failedBefore && Date.now() < deadline) await sleep(100);
    const minUp = Date.now() + DOWN_AFTER_FAILURE_MS;
    for (;;) {
      purgedPast = DBS.every((db) => oldestFile(run, db) > ackedAtKill[db]! + 1);
      if ((purgedPast && Date.now() >= minUp) || Date.now() > deadline) break;
      if (!purgedPast) run.load.burst(100);
      await sleep(100);
    }
  } finally {
    await broker.restart();
  }
  // Measured to the restart of the process, not to the broker answering (as before the helper existed).
  return { downMs: broker.restartedAt - killedAt, purgedPast, ackedAtKill };
}

/** One sub-run: the outage with or without the spill log. */
export async function kafkaOutage(options: ChaosOptions, spill: boolean): Promise<ClassResult> {
  const pidFile = brokerPidFile(options.bootstrap);
  const spillDir = tempDir('pc-chaos-spill-');
  const problems: string[] = [];
  let info = '';
  const connector: Record<string, string | number> = spill
    ? { 'spill.enabled': 'true', 'spill.dir': spillDir, 'spill.after.ms': 3000, 'spill.max.bytes': 64 * 1024 * 1024 }
    : { 'spill.enabled': 'false', 'snapshot.on.gap': 'resync' };
  const { figures, run } = await withRun({ ...options, binlogFileSize: 16 * 1024, expireLogsNums: 3, connector }, async (run) => {
    const o = await outage(run, pidFile);
    const oldest = DBS.map((db) => oldestFile(run, db));
    info = `Kafka down ${(o.downMs / 1000).toFixed(1)} s; acked binlog file at the kill ${o.ackedAtKill.join('/')}, oldest kept after ${oldest.join('/')}`;
    run.log(`  ${spill ? 'spill' : 'no spill'}: ${info}`);
    // Looked at before the catch-up: replayed segments are trimmed afterwards.
    if (spill && !readdirSync(spillDir).some((n) => n.startsWith('spill-'))) problems.push('the spill directory had no segment when Kafka came back');
    if (!o.purgedPast) problems.push(`the master did not purge past the connector's position within ${PURGE_LIMIT_MS} ms (${info})`);
    run.log(`  recovered in ${await run.recovered(300_000)} ms`);
  });
  const logs = run.logs();
  const resyncs = figures.snapshots - DBS.length;
  if (spill) {
    if (!/writing binlog items to the local spill log/.test(logs)) problems.push('no "writing binlog items to the local spill log" logged');
    if (/binlog gap/.test(logs)) problems.push('a binlog gap was logged although the spill log was on');
    if (resyncs !== 0) problems.push(`${resyncs} resync snapshots although the spill log was on`);
  } else {
    if (!/kSyncPointBePurged/.test(logs)) problems.push('no kSyncPointBePurged from the master logged');
    const gapLines = (logs.match(/binlog gap/g) ?? []).length;
    if (gapLines === 0) problems.push('no "binlog gap" error logged');
    if (resyncs < 1) problems.push('no resync snapshot after the gap');
    if (/spill log/.test(logs)) problems.push('the spill log was used although spill.enabled=false');
  }
  return {
    figures, recoveriesMs: run.recoveriesMs, faults: 1, failures: problems,
    detail: `${spill ? 'spill.enabled=true' : 'spill.enabled=false'}; broker SIGKILLed, master (16 KiB binlog files, expire-logs-nums 3) purging meanwhile; ${info}; ${resyncs} resync snapshots, ${figures.coveredBySnapshot} items covered by a snapshot; recovery = broker back → caught up`,
  };
}
