// `sync.protocol=auto|pb|legacy`: which replication protocol and version profile to use, decided from probe
// results. Pure: the caller runs the probes (connect to master port+2000 and send a PB MetaSync; optionally read
// INFO's pika_version) and feeds the results in. Facts (pika-protocol.md §1, §2, §4.2):
//   - PB masters (3.1+) answer MetaSync on port+2000; no run_id (field 3) → 3.1–3.4 (rsync push full sync),
//     DBInfo.db_instance_num present → 4.0, else 3.5.
//   - A 2.x/3.0 master's port+2000 is its heartbeat port: it speaks RESP, so a PB MetaSync gets no PB answer
//     (an error reply or a closed connection). Port closed/refused → legacy too.
//   - A legacy TRYSYNC against a PB master: `-ERR unknown or unsupported command 'trysync'`.
//   - 2.x and 3.0 use the same handshake; their binlog streams differ from the first byte (legacyProfileFromStream).
import { ConnectError, docRef } from '../../../runtime/api/index.ts';
import { HEARTBEAT_PORT_SHIFT } from './handshake.ts';

export type SyncProtocolSetting = 'auto' | 'pb' | 'legacy';
export type SyncProtocol = 'pb' | 'legacy';
export type VersionProfile = '3.1-3.4' | '3.5' | '4.0' | 'legacy-3.0' | 'legacy-2.x';

export type PbPortProbe =
  | { kind: 'meta-sync'; hasRunId: boolean; hasDbInstanceNum: boolean }
  /** Connected, but the answer was not PB (a RESP error, garbage, or the master closed without a reply). */
  | { kind: 'not-pb'; detail: string }
  | { kind: 'refused' }
  /** Timed out or no route: the port may be firewalled; not proof of a legacy master. */
  | { kind: 'unreachable'; detail: string };

export interface ProtocolProbes {
  masterHost: string;
  masterPort: number;
  /** The PB replication port actually probed (default masterPort + 2000; differs with pika.repl.port). */
  pbPortNumber?: number;
  pbPort?: PbPortProbe;
  /** The master's reply text to a TRYSYNC, when one was sent (only on the legacy path). */
  trysyncError?: string;
  /** INFO server's `pika_version`, when read. */
  pikaVersion?: string;
}

export type ProtocolDecision =
  | { kind: 'decided'; protocol: SyncProtocol; profile: VersionProfile | null; reason: string }
  | { kind: 'probe'; probe: 'pb-port'; reason: string };

export class ProtocolDetectionError extends ConnectError {
  constructor(message: string, code: string) {
    // An unreachable port may be a master restarting (retriable); the other codes are a mismatch a restart repeats.
    const unreachable = code === 'PIKA_PROTOCOL_PORT_UNREACHABLE';
    super(`${message} ${docRef(unreachable ? 'ports' : 'legacyVsPb')}`, { code, retriable: unreachable });
    this.name = 'ProtocolDetectionError';
  }
}

/** Maps a `pika_version` string to its profile; throws for anything unparseable or unknown. */
export function profileFromVersion(version: string): VersionProfile {
  const m = /^(\d+)\.(\d+)(?:\.\d+)?/.exec(version.trim());
  if (!m) throw new ProtocolDetectionError(`cannot read Pika version ${JSON.stringify(version)}`, 'PIKA_PROTOCOL_VERSION');
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major === 2) return 'legacy-2.x';
  if (major === 3 && minor === 0) return 'legacy-3.0';
  if (major === 3 && minor >= 1 && minor <= 4) return '3.1-3.4';
  if (major === 3 && minor === 5) return '3.5';
  if (major === 4 && minor === 0) return '4.0';
  throw new ProtocolDetectionError(`Pika ${version} is not a supported version (2.x, 3.0–3.5, 4.0)`, 'PIKA_PROTOCOL_VERSION');
}

const isLegacyProfile = (p: VersionProfile): boolean => p === 'legacy-3.0' || p === 'legacy-2.x';

function pbProfile(probe: { hasRunId: boolean; hasDbInstanceNum: boolean }): VersionProfile {
  if (probe.hasDbInstanceNum) return '4.0';
  return probe.hasRunId ? '3.5' : '3.1-3.4';
}

const TRYSYNC_UNKNOWN = /unknown (or unsupported )?command .?trysync/i;

/**
 * Decides protocol and profile, asks for the PB-port probe when it is needed and missing, or throws a
 * `ProtocolDetectionError` that names the port, what it is for and the setting to change.
 */
export function decideSyncProtocol(setting: SyncProtocolSetting, probes: ProtocolProbes): ProtocolDecision {
  const pbPortNo = probes.pbPortNumber ?? probes.masterPort + HEARTBEAT_PORT_SHIFT;
  const where = `${probes.masterHost}:${pbPortNo}`;
  const versionProfile = probes.pikaVersion !== undefined ? profileFromVersion(probes.pikaVersion) : null;
  const legacyProfile = versionProfile && isLegacyProfile(versionProfile) ? versionProfile : null;

  if (probes.trysyncError !== undefined && TRYSYNC_UNKNOWN.test(probes.trysyncError)) {
    const pbHint = setting === 'legacy' ? 'set sync.protocol=pb or auto' : `open the PB replication port ${where} to the connector`;
    throw new ProtocolDetectionError(
      `the master rejects TRYSYNC ("${probes.trysyncError}"): it is Pika 3.1 or newer and only speaks the PB protocol on ${where}; ${pbHint}`,
      'PIKA_PROTOCOL_LEGACY_ON_PB_MASTER');
  }

  if (setting === 'legacy') {
    if (versionProfile && !legacyProfile) {
      throw new ProtocolDetectionError(
        `sync.protocol=legacy but the master is Pika ${probes.pikaVersion}, which only speaks the PB protocol; set sync.protocol=pb or auto`,
        'PIKA_PROTOCOL_LEGACY_ON_PB_MASTER');
    }
    return { kind: 'decided', protocol: 'legacy', profile: legacyProfile, reason: 'sync.protocol=legacy' };
  }

  const pb = probes.pbPort;
  if (!pb) return { kind: 'probe', probe: 'pb-port', reason: `try a PB MetaSync on ${where}` };

  if (pb.kind === 'meta-sync') {
    const profile = pbProfile(pb);
    if (versionProfile && versionProfile !== profile) {
      throw new ProtocolDetectionError(
        `the master says it is Pika ${probes.pikaVersion} but its MetaSync reply looks like ${profile}; refusing to guess`,
        'PIKA_PROTOCOL_INCONSISTENT');
    }
    const fields = `run_id ${pb.hasRunId ? 'present' : 'absent'}, db_instance_num ${pb.hasDbInstanceNum ? 'present' : 'absent'}`;
    return { kind: 'decided', protocol: 'pb', profile, reason: `PB MetaSync answered on ${where} (${fields})` };
  }

  if (pb.kind === 'unreachable') {
    throw new ProtocolDetectionError(
      `cannot reach the master's replication port ${where} (PB replication on 3.1+, heartbeat on 2.x/3.0): ${pb.detail}`,
      'PIKA_PROTOCOL_PORT_UNREACHABLE');
  }

  if (setting === 'pb') {
    const what = pb.kind === 'refused' ? 'refuses connections' : `does not answer PB (${pb.detail})`;
    throw new ProtocolDetectionError(
      `sync.protocol=pb but the master's PB replication port ${where} ${what}: a Pika 2.x/3.0 master needs sync.protocol=legacy or auto`,
      'PIKA_PROTOCOL_PB_UNAVAILABLE');
  }

  if (versionProfile && !legacyProfile) {
    throw new ProtocolDetectionError(
      `the master says it is Pika ${probes.pikaVersion} but its PB replication port ${where} ${pb.kind === 'refused' ? 'refuses connections' : 'does not answer PB'}`,
      'PIKA_PROTOCOL_PB_UNAVAILABLE');
  }
  const why = pb.kind === 'refused' ? `${where} refuses connections` : `${where} does not answer PB (${pb.detail})`;
  return { kind: 'decided', protocol: 'legacy', profile: legacyProfile, reason: `auto: ${why}, falling back to legacy TRYSYNC` };
}

/**
 * A Pika 2.x master answering TRYSYNC with `wait` would push a Nemo-format dump (2.x storage, pika-protocol.md §1);
 * the connector reads only Blackwidow (3.0–3.5) and Floyd (4.0) dumps, so it refuses before starting a daemon.
 */
export function nemoFullSyncError(version: string | undefined): ProtocolDetectionError {
  return new ProtocolDetectionError(
    `the master is Pika ${version ?? '2.x'} and answered TRYSYNC with "wait" (a full sync: the requested binlog position is purged, or snapshot.mode=always); `
    + 'a Pika 2.x full sync pushes a Nemo-format dump, which pika-connect cannot read (it reads the Blackwidow dumps of 3.0–3.5 and the Floyd dumps of 4.0). '
    + 'To start without a full sync, use snapshot.mode=never with no committed offset (reset the connector\'s offsets or use a new source.id): it streams from the master\'s current binlog position, without the data written before; or upgrade the master to 3.0 or newer',
    'PIKA_LEGACY_2X_FULL_SYNC');
}

/**
 * 2.x vs 3.0 from the first byte the master's binlog sender writes: 3.0 frames start with the u16 LE type 1
 * (byte 0x01); 2.x writes raw RESP (`*`). Anything else is an error.
 */
export function legacyProfileFromStream(firstByte: number): 'legacy-3.0' | 'legacy-2.x' {
  if (firstByte === 0x01) return 'legacy-3.0';
  if (firstByte === 0x2a) return 'legacy-2.x';
  throw new ProtocolDetectionError(
    `the binlog sender's first byte is 0x${firstByte.toString(16).padStart(2, '0')}: neither a 3.0 frame (0x01) nor 2.x RESP ('*')`,
    'PIKA_PROTOCOL_LEGACY_STREAM');
}
