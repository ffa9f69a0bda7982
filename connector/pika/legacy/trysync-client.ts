// One TRYSYNC exchange on the master's RESP port: connect, write `[auth <pw>] trysync <ip> <port> <filenum>
// <offset>` in one write, read the replies, close (the real 3.0 replica uses a new connection per attempt).
import type { BinlogPosition } from '../binlog/item.ts';
import { LegacyHandshakeError, encodeTrysyncRequest, trysyncOutcome, type TrysyncOutcome } from './handshake.ts';
import { LegacyReplyReader, type LegacyReply } from './replies.ts';
import { connectTo } from './tcp.ts';

export interface TrysyncCall {
  host: string;
  port: number;
  masterAuth?: string;
  /** Reported replica ip; default = the local address of this connection (what the master can reach us at). */
  replicaIp?: string;
  replicaPort: number;
  start: BinlogPosition | 'force';
  timeoutMs: number;
  /**
   * Runs once connected, before TRYSYNC is written, with the master's address as this connection reached it: the
   * real 3.0 replica (re)starts its rsync daemon here, so a `wait` always finds it listening.
   */
  beforeSend?(masterAddress: string | undefined): Promise<void>;
}

export interface TrysyncResult {
  outcome: TrysyncOutcome;
  /** The ip that was reported to the master. */
  replicaIp: string;
  /** The master's address as this connection reached it (peer address; a host name resolved). */
  masterAddress: string | undefined;
}

export async function trysync(call: TrysyncCall): Promise<TrysyncResult> {
  const socket = await connectTo(call.host, call.port, "the master's RESP port (legacy AUTH/TRYSYNC)", call.timeoutMs);
  const replicaIp = call.replicaIp ?? socket.localAddress ?? '127.0.0.1';
  const masterAddress = socket.remoteAddress;
  const authSent = Boolean(call.masterAuth);
  try {
    await call.beforeSend?.(masterAddress);
    return await new Promise<TrysyncResult>((resolve, reject) => {
      const reader = new LegacyReplyReader();
      const replies: LegacyReply[] = [];
      const timer = setTimeout(() => reject(new LegacyHandshakeError(
        `the master ${call.host}:${call.port} did not answer TRYSYNC within ${call.timeoutMs} ms`, 'PIKA_LEGACY_UNEXPECTED')), call.timeoutMs);
      const settle = (fn: () => void): void => { clearTimeout(timer); fn(); };
      socket.on('data', (chunk: Buffer) => {
        try {
          replies.push(...reader.push(chunk));
          const outcome = trysyncOutcome(replies, authSent);
          if (outcome) settle(() => resolve({ outcome, replicaIp, masterAddress }));
        } catch (error) {
          settle(() => reject(error));
        }
      });
      socket.on('error', (error) => settle(() => reject(new LegacyHandshakeError(`TRYSYNC connection to ${call.host}:${call.port} failed: ${error.message}`, 'PIKA_LEGACY_UNEXPECTED'))));
      socket.on('close', () => settle(() => reject(new LegacyHandshakeError(
        `the master ${call.host}:${call.port} closed the connection before answering TRYSYNC${replies.length ? ` (after ${replies.length} replies)` : ''}`, 'PIKA_LEGACY_UNEXPECTED'))));
      socket.write(encodeTrysyncRequest({ masterAuth: call.masterAuth, replicaIp, replicaPort: call.replicaPort, start: call.start }));
    });
  } finally {
    socket.destroy();
  }
}
