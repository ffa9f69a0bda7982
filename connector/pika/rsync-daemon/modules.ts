// What each Pika line expects of the replica's rsync daemon (facts: pika-protocol.md §2.2, §2.3, §7.5, §7.6).
import type { DaemonModule } from './daemon-config.ts';

/** kPortShiftRSync: 3.1–3.4 masters push to the reported node port + 1000 (`HandleDBSyncRequest` @v3.3.6). */
export const PB_RSYNC_PORT_SHIFT = 1000;
/** 2.x / 3.0 masters push to the slave's port + 3000 (`PikaTrysyncThread` @v3.0.16). */
export const LEGACY_RSYNC_PORT_SHIFT = 3000;
/** kDBSyncModule, pstd/slash kRsyncUser, kDefaultRsyncAuth (include/pika_define.h, rsync.h @v3.3.6). */
export const DB_SYNC_MODULE = 'document';
export const RSYNC_USER = 'rsync_user';
export const DEFAULT_RSYNC_AUTH = 'default';

/**
 * 3.1–3.4: module `document`, user `rsync_user`; the master logs in with its requirepass (its `rsync.secret`,
 * `PikaRsyncService::CreateSecretFile`) or `default` when it has none. Files land in `<path>/<db name>/`.
 */
export function pbPushModule(path: string, masterPassword: string | undefined): DaemonModule {
  return { name: DB_SYNC_MODULE, path, auth: { user: RSYNC_USER, secret: masterPassword || DEFAULT_RSYNC_AUTH } };
}

/**
 * 3.0: module `document_<master ip>:<master port>` (only that master's push is accepted), no authentication
 * (3.0's StartRsync has no secret; the capture's rsyncd.conf has none). Files land at `<path>/` directly.
 * `masterIp` must be the address the master pushes from: see `legacyMasterIp`.
 */
export function legacyPushModule(path: string, masterIp: string, masterPort: number): DaemonModule {
  return { name: `${DB_SYNC_MODULE}_${masterIp}:${masterPort}`, path };
}

/**
 * The master ip in a 3.0 module name. A 3.0.16 master names the module after its own end of a TCP connection to
 * the replica's daemon (`getsockname` in `PikaServer::DBSyncSendFile`, src/pika_server.cc@v3.0.16), and writes
 * the same address into `info`; a real replica names it after its `slaveof` host as given (127.0.0.1 replaced
 * by its own interface address, `PikaServer::SetMaster`), so a host name there never matches. We use the peer
 * address of our TRYSYNC connection: the master's address on the path between the two hosts, which is where its
 * connection back to us comes from unless routing is asymmetric (the daemon then logs `unknown module`, which
 * the receiver reports). IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is written as the IPv4 address, as 3.0's
 * inet_ntoa does.
 */
export function legacyMasterIp(peerAddress: string | undefined, configuredHost: string): string {
  const address = peerAddress?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  return address && address !== '' ? address : configuredHost;
}
