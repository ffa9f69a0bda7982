// The test master's version profiles as the end-to-end suite (e2e-*.test.ts) runs them: how each master starts,
// what `sync.protocol=auto` must pick for it (log line and task status), which commands it supports, and the waits
// that differ between PB masters (per-DB positions, acks) and legacy ones (one keyspace, resume points).
import assert from 'node:assert/strict';
import { startPikaMaster, type PikaMaster, type PikaMasterOptions } from '../../pika-master/index.ts';
import type { WorkerProcess } from '../../helpers/worker-process.ts';
import { WORKLOAD, type WorkloadCommand } from './pika-workload.ts';
import { freeReplicaPort, killLeftoverDaemon, pikaRun, sleep, taskStatus, waitCaughtUp, waitLog, waitStreaming, type PikaRun } from './pika-harness.ts';
import { legacyRun, waitLegacyCaughtUp, type LegacyRun } from './legacy-harness.ts';

export type MasterProfile = '4.0' | '3.5' | 'pb-3.4' | 'legacy-3.0' | 'legacy-2.x';

export interface ProfileCase {
  profile: MasterProfile;
  protocol: 'pb' | 'legacy';
  /** The version profile the connector names in its log and status. */
  detected: '4.0' | '3.5' | '3.1-3.4' | 'legacy-3.0' | 'legacy-2.x';
  /** Why auto chose the protocol (log line). */
  reason: RegExp;
  dbs: number[];
  /** The RESP workload's commands this profile supports (legacy: one keyspace; streams came with 3.5/4.0 only). */
  workload: WorkloadCommand[];
  /** How a consumer models the master's state (masterModel): 4.0 keeps ms TTLs, older ones seconds. */
  model: '4.0' | '3.5';
  /** SIGKILLs in the exactly-once test (the default profile gets the most). */
  kills: number;
}

const LEGACY_WORKLOAD = WORKLOAD.filter((c) => c.db === 0 && c.argv[0] !== 'XADD');
const pbReason = (runId: boolean, instances: boolean): RegExp =>
  new RegExp(`PB MetaSync answered on 127\\.0\\.0\\.1:\\d+ \\(run_id ${runId ? 'present' : 'absent'}, db_instance_num ${instances ? 'present' : 'absent'}\\)`);
const legacyReason = /auto: 127\.0\.0\.1:\d+ (refuses connections|does not answer PB \(.*?\)), falling back to legacy TRYSYNC/;

export const PROFILES: Record<MasterProfile, ProfileCase> = {
  '4.0': { profile: '4.0', protocol: 'pb', detected: '4.0', reason: pbReason(true, true), dbs: [0, 1], workload: WORKLOAD, model: '4.0', kills: 10 },
  '3.5': { profile: '3.5', protocol: 'pb', detected: '3.5', reason: pbReason(true, false), dbs: [0, 1], workload: WORKLOAD, model: '3.5', kills: 3 },
  'pb-3.4': { profile: 'pb-3.4', protocol: 'pb', detected: '3.1-3.4', reason: pbReason(false, false), dbs: [0, 1], workload: WORKLOAD, model: '3.5', kills: 3 },
  'legacy-3.0': { profile: 'legacy-3.0', protocol: 'legacy', detected: 'legacy-3.0', reason: legacyReason, dbs: [0], workload: LEGACY_WORKLOAD, model: '3.5', kills: 3 },
  'legacy-2.x': { profile: 'legacy-2.x', protocol: 'legacy', detected: 'legacy-2.x', reason: legacyReason, dbs: [0], workload: LEGACY_WORKLOAD, model: '3.5', kills: 3 },
};

export const cases = (...names: MasterProfile[]): ProfileCase[] => names.map((n) => PROFILES[n]);

export function startProfileMaster(c: ProfileCase, options: PikaMasterOptions = {}): Promise<PikaMaster> {
  const legacy = c.protocol === 'legacy';
  // Legacy timers (heartbeat, sender reconnect) a quarter of Pika's so restarts are quick.
  return startPikaMaster({ profile: c.profile, ...(legacy ? { timeScale: 4 } : { dbs: c.dbs.length }), ...options });
}

/** A worker run against `master` with sync.protocol=auto. */
export interface ProfileRun extends PikaRun {
  c: ProfileCase;
  master: PikaMaster;
  /** The reported replica port (legacy and 3.1–3.4 full sync; otherwise undefined). */
  replicaPort: number | undefined;
}

/**
 * `replica`: report 127.0.0.1 and a free port to the master (legacy always; 3.1–3.4 for its rsync push). PB runs
 * otherwise keep the default identity (the replication socket's own address, new per connection).
 */
export async function profileRun(c: ProfileCase, master: PikaMaster, props: Record<string, string | number> = {}, replica = false): Promise<ProfileRun> {
  const base = { 'sync.protocol': 'auto', ...props };
  let run: PikaRun;
  let replicaPort: number | undefined;
  if (c.protocol === 'legacy') {
    const l = await legacyRun(master, base);
    replicaPort = l.replicaPort;
    run = l;
  } else {
    if (replica) replicaPort = await freeReplicaPort([1000]);
    run = pikaRun(master, {
      ...(replicaPort !== undefined ? { 'pika.replica.ip': '127.0.0.1', 'pika.replica.port': replicaPort, 'pika.replica.rsync.bind': '127.0.0.1' } : {}),
      ...(c.profile === 'pb-3.4' ? {} : { 'pika.rsync.port': master.ports.rsync }),
      ...base,
    });
  }
  return { ...run, c, master, replicaPort };
}

/** The connector streams: PB → every DB's slave node in BinlogSync; legacy → the master's sender is accepted. */
export async function waitProfileStreaming(run: ProfileRun, worker: WorkerProcess): Promise<void> {
  if (run.c.protocol === 'pb') return waitStreaming(run.master, run.c.dbs, worker);
  await waitLog(worker, /replicating from the legacy Pika master/);
  // 3.0 frames or 2.x RESP, told apart by the sender's first byte.
  const line = worker.log.split('\n').find((l) => l.includes('replicating from the legacy Pika master'))!;
  assert.equal((JSON.parse(line) as { profile: string }).profile, run.c.profile, 'the legacy stream is recognised as its version');
}

/** Everything the master wrote is committed (PB: positions = the binlog end; legacy: resume point = the last item). */
export async function waitProfileCaughtUp(run: ProfileRun, worker: WorkerProcess, limitMs = 120_000): Promise<void> {
  if (run.c.protocol === 'legacy') await waitLegacyCaughtUp(run as unknown as LegacyRun, worker, limitMs);
  else await waitCaughtUp(run.master, run, run.c.dbs, worker, limitMs);
}

/** auto picked the profile's protocol: the log line, and the task status's sync_protocol. */
export async function assertAutoChoice(run: ProfileRun, worker: WorkerProcess): Promise<void> {
  const { c } = run;
  await waitLog(worker, new RegExp(`replication protocol: ${c.protocol} \\(Pika ${c.detected.replace(/\./g, '\\.')}\\)`));
  assert.match(worker.log, c.reason, 'why auto chose it is logged');
  // Status is reported once a second while the task polls: wait for the detected profile to show.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const sync = (await taskStatus(run, worker)).sync_protocol as Record<string, unknown> | null | undefined;
    if (sync?.profile === c.detected) {
      assert.deepEqual({ setting: sync.setting, protocol: sync.protocol }, { setting: 'auto', protocol: c.protocol }, 'task status: sync_protocol');
      return;
    }
    assert.ok(Date.now() < deadline, `task status never showed profile ${c.detected}: ${JSON.stringify(sync)}`);
    await sleep(200);
  }
}

/** Stops what a test started, whatever state it failed in. */
export async function cleanUp(run: ProfileRun | undefined, workers: WorkerProcess[], master: PikaMaster): Promise<void> {
  for (const w of workers) if (w.child.exitCode === null) await w.kill('SIGKILL');
  if (run) killLeftoverDaemon(run);
  await master.stop();
}
