// Replica side of the Pika 2.x/3.0 legacy replication handshake, as pure functions and one pure state machine
// (no sockets, no timers: the caller performs the returned actions). Facts from pika-protocol.md §2.3/§6.5/§7.6
// (src/pika_trysync_thread.cc, TrysyncCmd::Do in src/pika_admin.cc, src/pika_slaveping_thread.cc @v3.0.16),
// checked against pika-vectors-3.0.16-legacy/*/decoded/repl:
//
//   master:port        ← [auth <masterauth>] trysync <ip> <port> <filenum> <offset>   (one write, then read)
//                      → [+OK] then :<sid> (accepted) | $4 wait (full sync) | -ERR InvalidOffset | -ERR AlreadyExist
//                        The master closes each trysync connection after its reply.
//   wait               → the replica (re)starts `rsync --daemon` on its port+3000 with module
//                        document_<master ip>:<master port>, polls <dump dir>/info, then trysyncs at info's offset.
//   accepted           → master connects to replica port+1000 and sends frame `auth <sid>` first (frame-decoder.ts);
//                        replica connects master port+2000: `spci <sid>` (→ +OK), then `ping` every second (→ +PONG).
import { ConnectError } from '../../../runtime/api/index.ts';
import type { BinlogPosition } from '../binlog/item.ts';
import { encodeRespCommand } from '../protocol/resp.ts';
import type { LegacyFrame } from './frame-decoder.ts';
import { replyText, type LegacyReply } from './replies.ts';

/** `filenum` that makes a 3.0 master do a full sync whatever its binlog holds (`slaveof … force`). */
export const FORCE_FULL_SYNC_FILENUM = 0xffffffff;
export const BINLOG_RECEIVER_PORT_SHIFT = 1000;
export const HEARTBEAT_PORT_SHIFT = 2000;
export const RSYNC_DAEMON_PORT_SHIFT = 3000;
export const HEARTBEAT_INTERVAL_MS = 1000;

export type LegacyHandshakeErrorCode =
  | 'PIKA_LEGACY_AUTH' // masterauth rejected
  | 'PIKA_LEGACY_INVALID_OFFSET' // our position is beyond the master's binlog
  | 'PIKA_LEGACY_ALREADY_EXIST' // the master still has a slave with our ip:port
  | 'PIKA_LEGACY_NOT_SUPPORTED' // the master does not know TRYSYNC (a PB-era master, ≥ 3.1)
  | 'PIKA_LEGACY_UNREACHABLE' // a master port (RESP, heartbeat) cannot be connected to
  | 'PIKA_LEGACY_RECEIVER_LISTEN' // the binlog receiver cannot listen on its port
  | 'PIKA_LEGACY_FULL_SYNC' // the master needs a full sync this build cannot receive
  | 'PIKA_LEGACY_UNEXPECTED'; // any other reply, or one in the wrong place

export class LegacyHandshakeError extends ConnectError {
  constructor(message: string, code: LegacyHandshakeErrorCode, retriable = false) {
    super(message, { code, retriable });
    this.name = 'LegacyHandshakeError';
  }
}

export interface LegacyPorts {
  /** Replica side: where the master's BinlogSender connects. */
  binlogReceiver: number;
  /** Replica side: where the master's rsync client pushes the dump. */
  rsyncDaemon: number;
  /** Master side: the heartbeat (spci/ping) port. */
  heartbeat: number;
}

export function legacyPorts(replicaPort: number, masterPort: number): LegacyPorts {
  return {
    binlogReceiver: replicaPort + BINLOG_RECEIVER_PORT_SHIFT,
    rsyncDaemon: replicaPort + RSYNC_DAEMON_PORT_SHIFT,
    heartbeat: masterPort + HEARTBEAT_PORT_SHIFT,
  };
}

/** The rsync module a 3.0 master pushes to: `document_<master ip>:<master port>` (the ip the replica was given). */
export const legacyRsyncModule = (masterIp: string, masterPort: number): string => `document_${masterIp}:${masterPort}`;

export interface TrysyncRequest {
  /** Sent as `auth <masterAuth>` before trysync when non-empty (Pika uses masterauth, else requirepass). */
  masterAuth?: string;
  /** The ip and RESP port the replica reports; the master connects back to port+1000 and port+3000. */
  replicaIp: string;
  replicaPort: number;
  /** Where to resume, or 'force' for a full sync. */
  start: BinlogPosition | 'force';
}

/** The bytes a 3.0 replica writes on the master's RESP port: optional AUTH, then TRYSYNC, in one write. */
export function encodeTrysyncRequest(req: TrysyncRequest): Buffer {
  const [filenum, offset] = req.start === 'force' ? [FORCE_FULL_SYNC_FILENUM, 0] : [req.start.filenum, req.start.offset];
  const trysync = encodeRespCommand(['trysync', req.replicaIp, String(req.replicaPort), String(filenum), String(offset)]);
  return req.masterAuth ? Buffer.concat([encodeRespCommand(['auth', req.masterAuth]), trysync]) : trysync;
}

export type TrysyncOutcome = { kind: 'accepted'; sid: number } | { kind: 'wait' };

/**
 * Interprets the master's replies to encodeTrysyncRequest (in order). Returns null while more replies are needed;
 * throws `LegacyHandshakeError` for every refusal, naming the cause and what to do.
 */
export function trysyncOutcome(replies: readonly LegacyReply[], authSent: boolean): TrysyncOutcome | null {
  let i = 0;
  if (authSent) {
    const auth = replies[0];
    if (!auth) return null;
    if (auth.kind === 'error' || replyText(auth).toLowerCase() !== 'ok') {
      throw new LegacyHandshakeError(
        `the master rejected AUTH ("${replyText(auth)}"): check the configured master password`, 'PIKA_LEGACY_AUTH');
    }
    i = 1;
  }
  const reply = replies[i];
  if (!reply) return null;
  if (reply.kind === 'integer' && reply.value >= 0) return { kind: 'accepted', sid: reply.value };
  const text = replyText(reply);
  if (reply.kind !== 'error' && text === 'wait') return { kind: 'wait' };
  if (reply.kind === 'error') {
    if (/unknown or unsupported command 'trysync'|unknown command .?trysync/i.test(text)) {
      throw new LegacyHandshakeError(
        `the master does not support the legacy TRYSYNC protocol ("${text}"): it is Pika 3.1 or newer; use sync.protocol=pb or auto`,
        'PIKA_LEGACY_NOT_SUPPORTED');
    }
    if (/InvalidOffset/.test(text)) {
      throw new LegacyHandshakeError(
        `the master refused TRYSYNC: the requested binlog position is beyond its binlog ("${text}"); a full sync is needed`,
        'PIKA_LEGACY_INVALID_OFFSET');
    }
    if (/AlreadyExist/.test(text)) {
      throw new LegacyHandshakeError(
        `the master refused TRYSYNC: it already has a slave with this ip:port ("${text}"); wait for its old session to time out or report another replica port`,
        'PIKA_LEGACY_ALREADY_EXIST');
    }
  }
  throw new LegacyHandshakeError(`unexpected TRYSYNC reply ${reply.kind} "${text}"`, 'PIKA_LEGACY_UNEXPECTED');
}

/** Checks the first frame on the binlog receiver: must be `auth <sid>` with the sid TRYSYNC returned. */
export function checkReceiverAuth(frame: LegacyFrame, expectedSid: number): void {
  if (frame.kind !== 'auth') {
    throw new LegacyHandshakeError('the binlog sender did not start with "auth <sid>"', 'PIKA_LEGACY_UNEXPECTED');
  }
  if (frame.sid !== expectedSid) {
    throw new LegacyHandshakeError(
      `the binlog sender authenticated as slave id ${frame.sid}, but TRYSYNC gave us ${expectedSid}: another replica's stream`,
      'PIKA_LEGACY_UNEXPECTED');
  }
}

export const encodeSpci = (sid: number): Buffer => encodeRespCommand(['spci', String(sid)]);
export const encodePing = (): Buffer => encodeRespCommand(['ping']);

/** Checks one heartbeat reply: `+OK` for spci (the first request), `+PONG` for each ping. */
export function checkHeartbeatReply(reply: LegacyReply, request: 'spci' | 'ping'): void {
  const want = request === 'spci' ? 'OK' : 'PONG';
  if (reply.kind !== 'simple' || reply.text.toUpperCase() !== want) {
    throw new LegacyHandshakeError(
      `heartbeat: the master answered ${request} with ${reply.kind} "${replyText(reply)}", expected +${want}`,
      'PIKA_LEGACY_UNEXPECTED');
  }
}
