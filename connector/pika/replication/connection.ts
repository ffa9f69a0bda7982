// One TCP connection to a master's replication port: framed InnerRequests out, decoded InnerResponses in.
// Replies (MetaSync, TrySync, RemoveSlaveNode…) are awaited by type; BinlogSync pushes go to `onPush`.
import { connect, type Socket } from 'node:net';
import { FrameDecoder, encodeFrame } from '../protocol/frame-decoder.ts';
import { decodeInnerResponse, encodeInnerRequest, InnerType, type InnerRequestInput, type InnerResponse } from '../protocol/messages.ts';
import type { SessionClock } from './clock.ts';
import { docRef } from '../../../runtime/api/index.ts';

interface Waiter {
  type: number;
  resolve(response: InnerResponse): void;
  reject(error: Error): void;
  timer: unknown;
}

/** The connection ended; `cause` says why (peer closed, socket error, protocol error, our own close). */
export class ConnectionClosedError extends Error {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'ConnectionClosedError';
  }
}

export class ReplConnection {
  /** Called for every BinlogSync message (items and keepalives). Errors thrown here close the connection. */
  onPush: (response: InnerResponse) => void = () => {};
  /** Called once when the connection is gone, with the reason. */
  onClose: (error: Error) => void = () => {};
  /** Clock reading of the last byte received. */
  lastReceivedAt: number;
  private readonly decoder = new FrameDecoder();
  private readonly waiters: Waiter[] = [];
  private closedWith: Error | undefined;

  private constructor(private readonly socket: Socket, private readonly clock: SessionClock) {
    this.lastReceivedAt = clock.now();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.close(new ConnectionClosedError(`replication connection error: ${error.message}`, { cause: error })));
    socket.on('close', () => this.close(new ConnectionClosedError('the master closed the replication connection')));
  }

  static open(host: string, port: number, clock: SessionClock, timeoutMs: number): Promise<ReplConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = clock.setTimeout(() => {
        socket.destroy();
        reject(new ConnectionClosedError(`connecting to the replication port ${host}:${port} timed out after ${timeoutMs} ms ${docRef('ports')}`));
      }, timeoutMs);
      socket.once('error', (error) => {
        clock.clearTimeout(timer);
        reject(new ConnectionClosedError(`cannot connect to the replication port ${host}:${port}: ${error.message} ${docRef('ports')}`, { cause: error }));
      });
      socket.once('connect', () => {
        clock.clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ReplConnection(socket, clock));
      });
    });
  }

  get localAddress(): string {
    return this.socket.localAddress ?? '127.0.0.1';
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  send(request: InnerRequestInput): void {
    if (this.closedWith) throw this.closedWith;
    this.socket.write(encodeFrame(encodeInnerRequest(request)));
  }

  /** Sends `request` and resolves with the next reply of `replyType`; rejects on timeout or close. */
  request(request: InnerRequestInput, replyType: number, timeoutMs: number): Promise<InnerResponse> {
    const reply = this.waitFor(replyType, timeoutMs);
    this.send(request);
    return reply;
  }

  waitFor(type: number, timeoutMs: number): Promise<InnerResponse> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { type, resolve, reject, timer: undefined };
      waiter.timer = this.clock.setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new ConnectionClosedError(`no reply of type ${type} from the master within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Stops reading (back-pressure when the session's queue is full) / resumes. */
  pause(on: boolean): void {
    if (on) this.socket.pause();
    else this.socket.resume();
  }

  close(error: Error = new ConnectionClosedError('closed by the replica')): void {
    if (this.closedWith) return;
    this.closedWith = error;
    this.socket.destroy();
    for (const waiter of this.waiters.splice(0)) {
      this.clock.clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.onClose(error);
  }

  private receive(chunk: Buffer): void {
    if (this.closedWith) return;
    this.lastReceivedAt = this.clock.now();
    try {
      for (const body of this.decoder.push(chunk)) {
        const response = decodeInnerResponse(body);
        if (response.type === InnerType.kBinlogSync) {
          this.onPush(response);
        } else {
          const at = this.waiters.findIndex((w) => w.type === response.type);
          if (at < 0) continue; // a reply nobody waits for any more (timed out): harmless
          const [waiter] = this.waiters.splice(at, 1);
          this.clock.clearTimeout(waiter!.timer);
          waiter!.resolve(response);
        }
        if (this.closedWith) return;
      }
    } catch (error) {
      this.close(error as Error);
    }
  }
}
