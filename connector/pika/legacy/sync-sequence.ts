// The replica's legacy (2.x/3.0) sync sequence as a pure state machine: feed it what happened, perform the actions
// it returns (sockets, rsync daemon, dump loading and timers belong to the caller). Sequence observed from a real
// 3.0.16 replica (pika-vectors-3.0.16-legacy/README, "The protocol as observed"):
//   (re)start rsync daemon → trysync → `wait` → poll <dump dir>/info → trysync at info's position → `:<sid>`
//   → stop rsync daemon, heartbeat `spci <sid>` then `ping` each second → sender's `auth <sid>` frame → stream.
import type { BinlogPosition } from '../binlog/item.ts';
import type { DumpInfo } from '../dump/info-file.ts';
import type { LegacyFrame } from './frame-decoder.ts';
import {
  LegacyHandshakeError, checkReceiverAuth, encodeSpci, encodeTrysyncRequest, legacyPorts, legacyRsyncModule,
  type TrysyncOutcome,
} from './handshake.ts';

export interface LegacySyncConfig {
  masterIp: string;
  masterPort: number;
  replicaIp: string;
  replicaPort: number;
  masterAuth?: string;
}

export type LegacySyncState =
  | { step: 'trysync'; start: BinlogPosition | 'force' }
  | { step: 'await-dump' }
  | { step: 'await-sender'; sid: number; start: BinlogPosition | 'force' }
  | { step: 'streaming'; sid: number };

export type LegacySyncAction =
  | { type: 'start-rsync-daemon'; port: number; module: string }
  | { type: 'stop-rsync-daemon' }
  | { type: 'send-trysync'; host: string; port: number; bytes: Buffer; authSent: boolean }
  | { type: 'poll-dump-info' }
  /** Read the received dump (snapshot events) before resuming the binlog at `position`. */
  | { type: 'load-dump'; position: BinlogPosition }
  | { type: 'start-heartbeat'; host: string; port: number; first: Buffer }
  | { type: 'expect-sender'; port: number; sid: number };

export type LegacySyncEvent =
  | { type: 'trysync-outcome'; outcome: TrysyncOutcome }
  | { type: 'dump-info'; info: DumpInfo }
  | { type: 'receiver-frame'; frame: LegacyFrame };

export interface Transition {
  state: LegacySyncState;
  actions: LegacySyncAction[];
}

/** Starts (or restarts, e.g. after a lost connection) at `start`; 'force' requests a full sync. */
export function beginLegacySync(config: LegacySyncConfig, start: BinlogPosition | 'force'): Transition {
  return trysyncStep(config, start);
}

function trysyncStep(config: LegacySyncConfig, start: BinlogPosition | 'force'): Transition {
  const ports = legacyPorts(config.replicaPort, config.masterPort);
  const bytes = encodeTrysyncRequest({ masterAuth: config.masterAuth, replicaIp: config.replicaIp, replicaPort: config.replicaPort, start });
  return {
    state: { step: 'trysync', start },
    actions: [
      // The real replica restarts its daemon before every trysync, so a `wait` always finds it listening.
      { type: 'start-rsync-daemon', port: ports.rsyncDaemon, module: legacyRsyncModule(config.masterIp, config.masterPort) },
      { type: 'send-trysync', host: config.masterIp, port: config.masterPort, bytes, authSent: Boolean(config.masterAuth) },
    ],
  };
}

function unexpected(state: LegacySyncState, event: LegacySyncEvent): never {
  throw new LegacyHandshakeError(`legacy sync: ${event.type} is not expected in step ${state.step}`, 'PIKA_LEGACY_UNEXPECTED');
}

export function advanceLegacySync(config: LegacySyncConfig, state: LegacySyncState, event: LegacySyncEvent): Transition {
  const ports = legacyPorts(config.replicaPort, config.masterPort);
  switch (state.step) {
    case 'trysync': {
      if (event.type !== 'trysync-outcome') return unexpected(state, event);
      if (event.outcome.kind === 'wait') return { state: { step: 'await-dump' }, actions: [{ type: 'poll-dump-info' }] };
      const sid = event.outcome.sid;
      return {
        state: { step: 'await-sender', sid, start: state.start },
        actions: [
          { type: 'stop-rsync-daemon' },
          { type: 'expect-sender', port: ports.binlogReceiver, sid },
          { type: 'start-heartbeat', host: config.masterIp, port: ports.heartbeat, first: encodeSpci(sid) },
        ],
      };
    }
    case 'await-dump': {
      if (event.type !== 'dump-info') return unexpected(state, event);
      const { info } = event;
      // Like PikaTrysyncThread::TryUpdateMasterOffset: the dump must come from the master we asked.
      if (info.host !== config.masterIp || info.port !== config.masterPort) {
        throw new LegacyHandshakeError(
          `the received dump's info names master ${info.host}:${info.port}, expected ${config.masterIp}:${config.masterPort}`,
          'PIKA_LEGACY_UNEXPECTED');
      }
      const position = { filenum: info.filenum, offset: info.offset };
      const next = trysyncStep(config, position);
      return { state: next.state, actions: [{ type: 'load-dump', position }, ...next.actions] };
    }
    case 'await-sender': {
      if (event.type !== 'receiver-frame') return unexpected(state, event);
      checkReceiverAuth(event.frame, state.sid);
      return { state: { step: 'streaming', sid: state.sid }, actions: [] };
    }
    case 'streaming':
      return unexpected(state, event);
  }
}
