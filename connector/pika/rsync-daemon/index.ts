/**
 * The replica side of Pika's pushed full sync (2.x/3.0 and 3.1–3.4): an `rsync --daemon` we start and supervise,
 * which the master's `rsync` client pushes a dump into, and the wait for its `info` file (sent last).
 *
 *   const daemon = new RsyncDaemon({
 *     port: replicaPort + PB_RSYNC_PORT_SHIFT,            // 3.0: LEGACY_RSYNC_PORT_SHIFT
 *     module: pbPushModule(moduleDir, password),           // 3.0: legacyPushModule(moduleDir, masterIp, masterPort)
 *     controlDir,                                          // conf + secrets (0600) + pid; outside moduleDir
 *     purpose: 'Pika 3.1–3.4 full-sync push (pika.replica.port + 1000)',
 *     logger, onFailure, onAuthFailure,
 *   });
 *   await daemon.start();                  // RsyncDaemonError: PIKA_RSYNCD_MISSING / _BIND / _START / _CONFIG
 *   await prepareReceiveDir(join(moduleDir, 'db0'));      // 3.0: prepareReceiveDir(moduleDir)
 *   …ask the master for the dump (PB DBSync / legacy TRYSYNC → wait)…
 *   await waitForPushedDump(join(moduleDir, 'db0'), { signal, failure: () => daemon.failure, onProgress });
 *   …the directory is a Blackwidow dump with `info`: hand it to ../dump/ (readDumpInfo, readDbDump)…
 *   await daemon.stop();
 *
 * `checkReplicaEndpoint` says whether the ip:port the master will push to can work before anything is asked.
 * `PbPushReceiver` is all of this for a 3.1–3.4 master, as the PB source task uses it (prepare → DBSync → receive).
 * The daemon restarts by itself when it dies; `daemon.failure` / `onFailure` report when it gave up. It ends with
 * the thread that started it (setpriv --pdeathsig, parent-death.ts), and a stopped PbPushReceiver starts none again.
 */
export { RsyncDaemon, type RsyncDaemonOptions } from './rsync-daemon.ts';
export { RsyncDaemonError } from './errors.ts';
export { renderDaemonFiles, type DaemonModule } from './daemon-config.ts';
export { prepareReceiveDir, waitForPushedDump, measure, BLACKWIDOW_TYPE_DIRS, type PushProgress, type WaitForPushOptions } from './push-receiver.ts';
export {
  pbPushModule, legacyPushModule, legacyMasterIp, PB_RSYNC_PORT_SHIFT, LEGACY_RSYNC_PORT_SHIFT, DB_SYNC_MODULE, RSYNC_USER, DEFAULT_RSYNC_AUTH,
} from './modules.ts';
export { checkReplicaEndpoint, type EndpointCheck } from './endpoint-check.ts';
export { PbPushReceiver, type PbPushReceiverOptions } from './pb-push-receiver.ts';
export { pushTimeouts, type PushTimeoutRecord } from './push-timeouts.ts';
