// One slave's state for one DB on the master (SlaveNode + SyncWindow, src/pika_slave_node.cc @v4.0.1).

import { BinlogReader } from '../binlog/binlog-reader.ts';
import type { BinlogPosition } from '../binlog/physical-format.ts';

export type SlaveState = 'NotSync' | 'DbSync' | 'BinlogSync';

export interface WindowItem {
  /** Item end position; the window matches acks on filenum+offset only. */
  end: BinlogPosition;
  bytes: number;
  acked: boolean;
}

export interface QueuedItem {
  end: BinlogPosition;
  termId: number;
  logicId: bigint;
  item: Buffer;
}

export const ZERO_POSITION: BinlogPosition = { filenum: 0, offset: 0 };
export const samePosition = (a: BinlogPosition, b: BinlogPosition): boolean => a.filenum === b.filenum && a.offset === b.offset;

export class SlaveNode {
  state: SlaveState = 'NotSync';
  sentOffset: BinlogPosition = ZERO_POSITION;
  ackedOffset: BinlogPosition = ZERO_POSITION;
  window: WindowItem[] = [];
  writeQueue: QueuedItem[] = [];
  reader: BinlogReader | undefined;

  constructor(
    readonly ip: string,
    readonly port: number,
    readonly db: number,
    readonly sessionId: number,
    public lastRecvMs: number,
    public lastSendMs: number,
  ) {}

  get key(): string {
    return `${this.ip}:${this.port}`;
  }

  /** SyncWindow::Update. False ⇒ "Update binlog ack failed" (the master closes the connection). */
  ack(start: BinlogPosition, end: BinlogPosition): boolean {
    if (this.state !== 'BinlogSync') return false;
    let startPos = this.window.length;
    let endPos = this.window.length;
    for (let i = 0; i < this.window.length; i++) {
      if (samePosition(this.window[i]!.end, start)) startPos = i;
      if (samePosition(this.window[i]!.end, end)) { endPos = i; break; }
    }
    if (startPos === this.window.length || endPos === this.window.length) return false;
    for (let i = startPos; i <= endPos; i++) this.window[i]!.acked = true;
    while (this.window.length > 0 && this.window[0]!.acked) {
      this.ackedOffset = this.window.shift()!.end;
    }
    return true;
  }

  windowBytes(): number {
    return this.window.reduce((sum, w) => sum + (w.acked ? 0 : w.bytes), 0);
  }
}
