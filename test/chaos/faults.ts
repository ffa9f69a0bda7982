// The fault classes. Each drives one ChaosRun (or several) and returns its figures; the load keeps writing throughout.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ChaosRun, exited, sleep, type ChaosOptions } from './chaos-run.ts';
import type { Figures } from './audit.ts';

const execFileAsync = promisify(execFile);
const KAFKA_SH = fileURLToPath(new URL('../../scripts/kafka.sh', import.meta.url));

export interface ClassResult {
  figures: Figures;
  recoveriesMs: number[];
  faults: number;
  /** What was injected, e.g. "40 download, 30 emission, 30 streaming kills". */
  detail: string;
  /** Problems found outside the figures (e.g. a resync that did not happen); fail the run. */
  failures: string[];
}

const sum = (parts: Figures[]): Figures => {
  const out: Figures = { written: 0, inKafka: 0, lost: 0, duplicated: 0, outOfOrder: 0, aborted: 0, torn: 0, coveredBySnapshot: 0, snapshots: 0, notes: [] };
  for (const f of parts) {
    for (const k of ['written', 'inKafka', 'lost', 'duplicated', 'outOfOrder', 'aborted', 'torn', 'coveredBySnapshot', 'snapshots'] as const) out[k] += f[k];
    out.notes.push(...f.notes);
  }
  return out;
};

/** Runs `body` on a started run whose connector finished its first snapshot, then audits; always cleans up. */
export async function withRun(options: ChaosOptions, body: (run: ChaosRun) => Promise<void>, startStreaming = true): Promise<{ figures: Figures; run: ChaosRun }> {
  const run = new ChaosRun(options);
  try {
    await run.start();
    run.startWorker();
    if (startStreaming) {
      await waitFor(run, () => run.allStreaming(), 'the first snapshot', 300_000);
      await run.waitCaughtUp();
    }
    await body(run);
    return { figures: await run.finish(), run };
  } finally {
    await run.stop();
  }
}

export async function waitFor(run: ChaosRun, condition: () => boolean, what: string, limitMs = 120_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    const w = run.worker;
    if (exited(w)) throw new Error(`worker exited (${w!.child.exitCode ?? w!.child.signalCode}) waiting for ${what}; log tail:\n${w!.log.slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; log tail:\n${w?.log.slice(-4000)}`);
    await sleep(20);
  }
}

const between = (run: ChaosRun, min: number, max: number): number => Math.floor(min + run.random() * (max - min));

// --- (1) SIGKILL of the runtime ---------------------------------------------------------------------------------

function downloadedFiles(run: ChaosRun): { files: number; complete: boolean } {
  let files = 0;
  let complete = true;
  for (const db of ['db0', 'db1']) {
    try {
      const j = JSON.parse(readFileSync(join(run.snapshotDir, db, 'rsync-journal.json'), 'utf8')) as { files: Record<string, number>; complete: boolean };
      files += Object.keys(j.files).length;
      complete &&= j.complete;
    } catch {
      complete = false;
    }
  }
  return { files, complete: complete || run.phases().size === 2 };
}

/** `rounds` fresh connectors (each takes its own snapshot); per round `kills` SIGKILLs over download, emission, streaming. */
export async function runtimeKills(options: ChaosOptions, rounds: number, kills: number): Promise<ClassResult> {
  const parts: Figures[] = [];
  const recoveries: number[] = [];
  const phases = { download: 0, emission: 0, streaming: 0 };
  for (let round = 0; round < rounds; round++) {
    const { figures, run } = await withRun({ ...options, seed: options.seed + round }, async (run) => {
      for (let k = 0; k < kills; k++) {
        if (k > 0) run.startWorker();
        const want = k < kills * 0.3 ? 'download' : k < kills * 0.6 ? 'emission' : 'streaming';
        const state = downloadedFiles(run);
        if (want === 'download' && !state.complete) {
          await waitFor(run, () => { const s = downloadedFiles(run); return s.files > state.files || s.complete; }, 'download progress');
          if (!downloadedFiles(run).complete) {
            await sleep(between(run, 0, 200));
            await run.killWorker();
            phases.download++;
            continue;
          }
        }
        if (want !== 'streaming' && !run.allStreaming()) {
          const before = JSON.stringify([...run.phases()]);
          await waitFor(run, () => JSON.stringify([...run.phases()]) !== before, 'a snapshot commit', 180_000);
          if (!run.allStreaming()) {
            await sleep(between(run, 0, 150));
            await run.killWorker();
            phases.emission++;
            continue;
          }
        }
        // Streaming: half the kills after catching up (recovery measured), half at a random moment of the catch-up.
        await waitFor(run, () => run.allStreaming(), 'the snapshot to finish', 300_000);
        if (run.random() < 0.5) {
          await run.recovered();
          await sleep(between(run, 0, 1000));
        } else {
          await sleep(between(run, 0, 1500));
        }
        await run.killWorker();
        phases.streaming++;
      }
      run.log(`  round ${round + 1}/${rounds}: ${JSON.stringify(phases)}`);
    }, false);
    parts.push(figures);
    recoveries.push(...run.recoveriesMs);
  }
  return {
    figures: sum(parts), recoveriesMs: recoveries, faults: rounds * kills, failures: [],
    detail: `${phases.download} during download, ${phases.emission} during snapshot emission, ${phases.streaming} during streaming (${rounds} snapshots)`,
  };
}

// --- (2)/(3) Kafka brokers -------------------------------------------------------------------------------------

async function kafkaSh(clusterName: string, ...args: string[]): Promise<void> {
  await execFileAsync('bash', [KAFKA_SH, ...args], { env: { ...process.env, KAFKA_NAME: clusterName }, timeout: 300_000 });
}

/** One broker of the 3-node cluster SIGKILLed, the load going on for a while, then restarted; `times` times. */
export async function brokerKills(options: ChaosOptions, clusterName: string, times: number): Promise<ClassResult> {
  const recoveries: number[] = [];
  const killed: number[] = [];
  const { figures } = await withRun(options, async (run) => {
    for (let i = 0; i < times; i++) {
      const node = between(run, 1, 4);
      await kafkaSh(clusterName, 'kill-node', String(node));
      killed.push(node);
      // Recovery: from the kill until the connector committed what the master had at that moment (on 2 brokers).
      recoveries.push(await run.waitCaughtUp(180_000, `continue with node ${node} down`));
      run.log(`  ${i + 1}/${times}: node ${node} killed; caught up without it in ${recoveries.at(-1)} ms`);
      await sleep(between(run, 2000, 6000));
      await kafkaSh(clusterName, 'start-node', String(node));
      await run.waitCaughtUp(180_000, `continue after node ${node} came back`);
    }
  });
  return { figures, recoveriesMs: recoveries, faults: times, failures: [], detail: `nodes killed: ${killed.join(',')}; recovery = kill → caught up with a broker down` };
}

/** The whole cluster SIGKILLed, down for a few seconds, started again (data kept); `times` times. */
export async function clusterRestarts(options: ChaosOptions, clusterName: string, times: number): Promise<ClassResult> {
  const { figures, run } = await withRun(options, async (run) => {
    for (let i = 0; i < times; i++) {
      for (const node of [1, 2, 3]) await kafkaSh(clusterName, 'kill-node', String(node));
      await sleep(between(run, 2000, 6000));
      await Promise.all([1, 2, 3].map((node) => kafkaSh(clusterName, 'start-node', String(node))));
      run.log(`  ${i + 1}/${times}: cluster restarted; recovered in ${await run.recovered(300_000)} ms`);
    }
  });
  return { figures, recoveriesMs: run.recoveriesMs, faults: times, failures: [], detail: 'recovery = all brokers back → caught up' };
}

// --- (4) the master ----------------------------------------------------------------------------------------------

/** Rotates over: master restart (same replication id), binlog purged behind a stopped connector, new replication id. */
export async function masterFaults(options: ChaosOptions, times: number): Promise<ClassResult> {
  const kinds = { restart: 0, purge: 0, newId: 0 };
  let gapsExpected = 0;
  const { figures, run } = await withRun({ ...options, binlogFileSize: 64 * 1024 }, async (run) => {
    for (let i = 0; i < times; i++) {
      const kind = (['restart', 'purge', 'newId'] as const)[i % 3]!;
      kinds[kind]++;
      if (kind === 'restart') {
        await run.master.restart();
      } else if (kind === 'newId') {
        await run.master.restart({ newReplicationId: true });
        gapsExpected++;
      } else {
        await run.killWorker();
        const committed = [0, 1].map((db) => run.master.binlogPosition(db).filenum);
        // Write until every DB has moved two binlog files on, then purge all but the current file.
        while ([0, 1].some((db, i) => run.master.binlogPosition(db).filenum < committed[i]! + 2)) run.load.burst(200);
        for (const db of [0, 1]) run.master.faults.purgeBinlogs(db, run.master.binlogPosition(db).filenum - 1);
        gapsExpected++;
        run.startWorker();
      }
      run.log(`  ${i + 1}/${times}: ${kind}; recovered in ${await run.recovered(300_000)} ms`);
      await sleep(between(run, 500, 2000));
    }
  });
  const failures: string[] = [];
  // Documented behaviour: a gap is never silent. Each purge / new id makes both DBs resync (a new snapshot each).
  const snapshots = figures.snapshots;
  const wanted = 2 * (1 + gapsExpected);
  if (snapshots < wanted) failures.push(`only ${snapshots} snapshots for ${gapsExpected} gaps on 2 DBs (want ≥ ${wanted}): a gap was skipped silently`);
  const gapLines = (run.logs().match(/"kind":"(purged|replication-id-changed)".*"msg":"binlog gap: incremental replication cannot continue"/g) ?? []).length;
  if (gapLines < 2 * gapsExpected) failures.push(`${gapLines} "binlog gap" errors logged for ${gapsExpected} gaps on 2 DBs`);
  return {
    figures, recoveriesMs: run.recoveriesMs, faults: times, failures,
    detail: `${kinds.restart} restarts, ${kinds.purge} purges behind the connector, ${kinds.newId} new replication ids → ${snapshots - 2} resync snapshots`,
  };
}

// --- (5) the replication connection ----------------------------------------------------------------------------

export async function connectionFaults(options: ChaosOptions, times: number): Promise<ClassResult> {
  const kinds = { cut: 0, stall: 0, corrupt: 0 };
  const { figures, run } = await withRun(options, async (run) => {
    for (let i = 0; i < times; i++) {
      const kind = (['cut', 'stall', 'corrupt'] as const)[i % 3]!;
      kinds[kind]++;
      if (kind === 'cut') run.master.faults.cutConnections();
      else if (kind === 'corrupt') run.master.faults.corruptNextFrame();
      else {
        run.master.faults.stall(true);
        await sleep(between(run, 1000, 6000)); // beyond pika.silence.timeout.ms (3 s) about half the time
        run.master.faults.stall(false);
      }
      run.log(`  ${i + 1}/${times}: ${kind}; recovered in ${await run.recovered()} ms`);
      await sleep(between(run, 200, 1500));
    }
  });
  return { figures, recoveriesMs: run.recoveriesMs, faults: times, failures: [], detail: `${kinds.cut} cuts, ${kinds.stall} stalls (1–6 s), ${kinds.corrupt} corrupt frames` };
}

// --- (6) the checkpoint directory --------------------------------------------------------------------------------

async function chattr(flag: '+i' | '-i', path: string): Promise<void> {
  await execFileAsync('chattr', [flag, path]);
}

/**
 * Points the checkpoint's temp file at /dev/full. The worker writes that temp file and renames it on every commit,
 * so it may exist for a moment: retry until the link is made while it does not.
 */
async function replaceWithDevFull(tmp: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      symlinkSync('/dev/full', tmp);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 200) throw err;
      await sleep(10);
    }
  }
}

/** The checkpoint directory made unwritable (chattr +i, as root) or full (its temp file → /dev/full: ENOSPC). */
export async function checkpointFaults(options: ChaosOptions, times: number): Promise<ClassResult> {
  const kinds = { unwritable: 0, full: 0 };
  const failures: string[] = [];
  const { figures, run } = await withRun(options, async (run) => {
    for (let i = 0; i < times; i++) {
      const kind = i % 2 === 0 ? 'unwritable' : 'full';
      kinds[kind]++;
      const tmp = join(run.checkpoints, `${run.connector}-0.json.tmp`);
      if (kind === 'unwritable') await chattr('+i', run.checkpoints);
      else await replaceWithDevFull(tmp);
      try {
        await sleep(between(run, 500, 2000));
        // A restart while the directory is broken must not depend on it.
        await run.killWorker();
        run.startWorker();
        run.log(`  ${i + 1}/${times}: ${kind}; restarted worker caught up in ${await run.recovered()} ms`);
        if (!run.worker!.log.includes('could not write the local checkpoint file')) failures.push(`${kind}: no warning about the checkpoint file`);
      } finally {
        if (kind === 'unwritable') await chattr('-i', run.checkpoints);
        else if (existsSync(tmp) || readdirSync(run.checkpoints).includes(`${run.connector}-0.json.tmp`)) unlinkSync(tmp);
      }
      await run.waitCaughtUp();
    }
  });
  return { figures, recoveriesMs: run.recoveriesMs, faults: times, failures, detail: `${kinds.unwritable} unwritable (chattr +i), ${kinds.full} full (ENOSPC); each with a worker restart inside; recovery = restart → caught up` };
}
