// Minimal raw PB client for replaying recorded request frames against the test master.

import { connect, type Socket } from 'node:net';
import { FrameDecoder, encodeFrame } from '../../../pika-master/repl/frame-codec.ts';

export class RawPbClient {
  readonly frames: Buffer[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder();
  private waiters: (() => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.frames.push(...this.decoder.push(chunk));
      this.notify();
    });
    socket.on('close', () => { this.closed = true; this.notify(); });
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<RawPbClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    return new RawPbClient(socket);
  }

  sendRaw(frame: Buffer): void {
    this.socket.write(frame);
  }

  sendBody(body: Buffer): void {
    this.socket.write(encodeFrame(body));
  }

  /** Waits until `predicate` holds or `timeoutMs` passes; returns whether it held. */
  async waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    return true;
  }

  close(): void {
    this.socket.destroy();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
