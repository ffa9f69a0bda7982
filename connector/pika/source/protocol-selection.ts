// `sync.protocol=auto|pb|legacy` at task start: runs the probes protocol-detect.ts asks for and returns its decision.
//   pb     → no probe (the PB session reports the version profile from MetaSync).
//   legacy → INFO on the RESP port (pika_version, binlog_offset, server_id) when it answers; a PB-era version there
//            is a clear error.
//   auto   → a PB MetaSync on the replication port: a PB answer → pb; refused, closed, a RESP answer or none within
//            PROBE_TIMEOUT_MS (a legacy master's heartbeat port speaks RESP and waits for a CRLF) → legacy.
// The probe's MetaSync names the probe socket's own ip:port, and the master forgets it when the socket closes.
import { connect } from 'node:net';
import type { Logger } from '../../../runtime/api/index.ts';
import { encodeFrame, FrameDecoder } from '../protocol/frame-decoder.ts';
import { decodeInnerResponse, encodeInnerRequest, InnerType, StatusCode } from '../protocol/messages.ts';
import { metaSyncRequest } from '../replication/requests.ts';
import { decideSyncProtocol, profileFromVersion, type PbPortProbe, type SyncProtocol, type SyncProtocolSetting, type VersionProfile } from '../legacy/protocol-detect.ts';
import { encodeRespCommand } from '../protocol/resp.ts';

export const PROBE_TIMEOUT_MS = 3000;

export interface ProtocolSelection {
  setting: SyncProtocolSetting;
  protocol: SyncProtocol;
  /** Known now for legacy (INFO) and auto→pb (MetaSync fields); for pb the session learns it. */
  profile: VersionProfile | null;
  reason: string;
  /** Legacy masters: what INFO said, when it answered. */
  info?: LegacyMasterInfo;
}

export interface LegacyMasterInfo {
  version?: string;
  serverId?: number;
  binlogOffset?: { filenum: number; offset: number };
}

export interface SelectionTarget {
  host: string;
  port: number;
  replPort: number;
  password: string | undefined;
}

export async function selectSyncProtocol(setting: SyncProtocolSetting, target: SelectionTarget, logger: Logger, probeTimeoutMs = PROBE_TIMEOUT_MS): Promise<ProtocolSelection> {
  if (setting === 'pb') return log(logger, { setting, protocol: 'pb', profile: null, reason: 'sync.protocol=pb' });
  const base = { masterHost: target.host, masterPort: target.port, pbPortNumber: target.replPort };
  if (setting === 'auto') {
    const pbPort = await probePbPort(target.host, target.replPort, target.password, probeTimeoutMs);
    if (pbPort.kind === 'pb-refused') {
      return log(logger, { setting, protocol: 'pb', profile: null, reason: `a PB MetaSync on ${target.host}:${target.replPort} was answered (refused: ${pbPort.detail})` });
    }
    const decision = decideSyncProtocol('auto', { ...base, pbPort });
    if (decision.kind !== 'decided') throw new Error(`protocol detection asked for the ${decision.probe} probe twice`);
    if (decision.protocol === 'pb') return log(logger, { setting, protocol: 'pb', profile: decision.profile, reason: decision.reason });
    const info = await readLegacyInfo(target, probeTimeoutMs).catch(() => undefined);
    const profile = info?.version !== undefined ? profileFromVersion(info.version) : null;
    const checked = decideSyncProtocol('auto', { ...base, pbPort, pikaVersion: info?.version });
    if (checked.kind !== 'decided') throw new Error('protocol detection did not decide');
    return log(logger, { setting, protocol: 'legacy', profile: checked.profile ?? profile, reason: checked.reason, ...(info ? { info } : {}) });
  }
  const info = await readLegacyInfo(target, probeTimeoutMs).catch(() => undefined);
  const decision = decideSyncProtocol('legacy', { ...base, pikaVersion: info?.version });
  if (decision.kind !== 'decided') throw new Error('protocol detection did not decide');
  return log(logger, { setting, protocol: 'legacy', profile: decision.profile, reason: decision.reason, ...(info ? { info } : {}) });
}

/** The version profile a PB session's MetaSync reply shows (pika-protocol.md §1): no run_id → 3.1–3.4. */
export function pbVersionProfile(master: { runId: string | null; profile: '4.0' | '3.5' }): VersionProfile {
  return master.runId === null ? '3.1-3.4' : master.profile;
}

function log(logger: Logger, selection: ProtocolSelection): ProtocolSelection {
  logger.info(`replication protocol: ${selection.protocol}${selection.profile ? ` (Pika ${selection.profile})` : ''}`, {
    'sync.protocol': selection.setting, protocol: selection.protocol, profile: selection.profile, reason: selection.reason,
    ...(selection.info?.version ? { pika_version: selection.info.version } : {}),
  });
  return selection;
}

/** One PB MetaSync on the replication port; what came back, classified for decideSyncProtocol. */
export type PbProbeResult = PbPortProbe | { kind: 'pb-refused'; detail: string };

export function probePbPort(host: string, port: number, password: string | undefined, timeoutMs: number): Promise<PbProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let done = false;
    const finish = (probe: PbProbeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(probe);
    };
    const timer = setTimeout(() => finish(socket.connecting
      ? { kind: 'unreachable', detail: `no TCP connection within ${timeoutMs} ms` }
      : { kind: 'not-pb', detail: `no answer to a PB MetaSync within ${timeoutMs} ms` }), timeoutMs);
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (socket.connecting || error.code === 'ECONNREFUSED') {
        finish(error.code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'unreachable', detail: error.code ?? error.message });
      } else {
        finish({ kind: 'not-pb', detail: `connection failed after a PB MetaSync: ${error.message}` });
      }
    });
    socket.once('connect', () => {
      const node = { ip: socket.localAddress ?? '127.0.0.1', port: socket.localPort ?? 0 };
      socket.write(encodeFrame(encodeInnerRequest(metaSyncRequest(node, password))));
    });
    const decoder = new FrameDecoder({ maxFrameLength: 1024 * 1024 });
    let first = true;
    socket.on('data', (chunk: Buffer) => {
      if (first && (chunk[0] === 0x2d || chunk[0] === 0x2b)) { // '-' / '+': a RESP server (legacy heartbeat port)
        finish({ kind: 'not-pb', detail: `RESP reply ${JSON.stringify(chunk.subarray(0, 60).toString('latin1').trim())}` });
        return;
      }
      first = false;
      try {
        for (const body of decoder.push(chunk)) {
          const reply = decodeInnerResponse(body);
          if (reply.type !== InnerType.kMetaSync) {
            finish({ kind: 'not-pb', detail: `PB reply of type ${reply.type} to MetaSync` });
            return;
          }
          const meta = reply.meta_sync;
          if (reply.code !== StatusCode.kOk || !meta) {
            // A PB master refusing us (auth, AlreadyExist…): PB it is; the session reports the refusal itself.
            finish({ kind: 'pb-refused', detail: reply.reply ?? `code ${reply.code}` });
            return;
          }
          finish({ kind: 'meta-sync', hasRunId: meta.run_id !== undefined && meta.run_id !== '', hasDbInstanceNum: meta.dbs_info?.[0]?.db_instance_num !== undefined });
          return;
        }
      } catch (error) {
        finish({ kind: 'not-pb', detail: `not a PB answer (${(error as Error).message})` });
      }
    });
    socket.once('close', () => finish({ kind: 'not-pb', detail: 'the master closed the connection without a PB answer' }));
  });
}

/** INFO on the RESP port of a legacy master: pika_version, server_id and binlog_offset (`<filenum> <offset>`). */
export function readLegacyInfo(target: SelectionTarget, timeoutMs: number): Promise<LegacyMasterInfo> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port });
    let buf = Buffer.alloc(0);
    let skipAuthReply = Boolean(target.password);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`INFO on ${target.host}:${target.port}: no answer within ${timeoutMs} ms`)); }, timeoutMs);
    const done = (fn: () => void): void => { clearTimeout(timer); socket.destroy(); fn(); };
    socket.once('error', (error) => done(() => reject(error)));
    socket.once('connect', () => {
      const info = encodeRespCommand(['info']);
      socket.write(target.password ? Buffer.concat([encodeRespCommand(['auth', target.password]), info]) : info);
    });
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (skipAuthReply) {
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        buf = buf.subarray(eol + 2);
        skipAuthReply = false;
      }
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      if (buf[0] !== 0x24) { done(() => reject(new Error(`INFO answered ${JSON.stringify(buf.subarray(0, eol).toString('latin1'))}`))); return; }
      const length = Number(buf.subarray(1, eol).toString('latin1'));
      if (buf.length < eol + 2 + length) return;
      const text = buf.subarray(eol + 2, eol + 2 + length).toString('latin1');
      done(() => resolve(parseLegacyInfo(text)));
    });
  });
}

export function parseLegacyInfo(text: string): LegacyMasterInfo {
  const field = (name: string): string | undefined => new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim();
  const out: LegacyMasterInfo = {};
  const version = field('pika_version');
  if (version) out.version = version;
  const serverId = field('server_id');
  if (serverId && /^\d+$/.test(serverId)) out.serverId = Number(serverId);
  const m = /^(\d+) (\d+)$/.exec(field('binlog_offset') ?? '');
  if (m) out.binlogOffset = { filenum: Number(m[1]), offset: Number(m[2]) };
  return out;
}
