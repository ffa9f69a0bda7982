// Pika 3.0.x legacy binlog stream: what the master's BinlogSender writes to the replica's binlog receiver port
// (replica port+1000). The replica never writes on this connection; there are no acks (flow control is TCP).
//
//   frame := u16 LE transfer_type | u32 LE body_length | body       (6-byte header)
//   type 1 (kTypeAuth):   body = RESP `auth <sid>`, sent once first; sid = the TRYSYNC reply's slave id
//   type 2 (kTypeBinlog): body = 34-byte item header + RESP command (binlog/item.ts), but bytes 6–9 hold the
//                         master's server_id instead of a term id
//
// Source: pika-protocol.md §6.5 (src/pika_binlog_sender_thread.cc, include/pika_binlog_transverter.h @v3.0.16),
// checked against pika-vectors-3.0.16-legacy/*/decoded/binlog_frames.jsonl. Big records are single frames
// (up to 280,076 bytes in the capture), so frames are never split across items.
import { decodeBinlogItem, type BinlogItem, type BinlogPosition } from '../binlog/item.ts';
import { PikaProtocolError } from '../protocol/errors.ts';
import { parseRespCommand } from '../protocol/resp.ts';

export const LEGACY_FRAME_HEADER_LENGTH = 6;
export const LEGACY_FRAME_TYPE_AUTH = 1;
export const LEGACY_FRAME_TYPE_BINLOG = 2;
/** Default cap on one frame body; Pika's own receiver has no limit, this only guards against a corrupt length. */
export const DEFAULT_MAX_LEGACY_FRAME_BODY = 512 * 1024 * 1024;

export interface LegacyAuthFrame {
  kind: 'auth';
  /** The slave id the master's sender claims to serve; must equal the TRYSYNC reply (see handshake.ts). */
  sid: number;
}

/** A 3.0 binlog item: the 34-byte item with its bytes 6–9 read as the master's server_id. */
export interface LegacyBinlogItem extends BinlogItem {
  serverId: number;
}

export interface LegacyBinlogFrame {
  kind: 'binlog';
  item: LegacyBinlogItem;
  /** Where the master's binlog stands after this item (the TRYSYNC resume point), see legacyItemEnd(). */
  end: BinlogPosition;
}

export type LegacyFrame = LegacyAuthFrame | LegacyBinlogFrame;

function fail(message: string, cause?: unknown): never {
  throw new PikaProtocolError(`legacy binlog stream: ${message}`, { code: 'PIKA_LEGACY_FRAME', cause });
}

/** Parses the body of a type-1 frame: exactly `auth <decimal sid>` (command name case-insensitive). */
export function decodeLegacyAuthBody(body: Buffer): number {
  let argv: Buffer[];
  try {
    argv = parseRespCommand(body);
  } catch (err) {
    fail(`auth frame: ${(err as Error).message}`, err);
  }
  if (argv.length !== 2 || argv[0]!.toString('latin1').toLowerCase() !== 'auth') {
    fail(`auth frame must be "auth <sid>", got ${JSON.stringify(argv.map((a) => a.toString('latin1').slice(0, 32)))}`);
  }
  const text = argv[1]!.toString('latin1');
  if (!/^[0-9]{1,10}$/.test(text)) fail(`auth frame sid ${JSON.stringify(text.slice(0, 32))} is not a decimal number`);
  return Number(text);
}

const BINLOG_BLOCK_SIZE = 64 * 1024;
const BINLOG_RECORD_HEADER = 8;

/**
 * The master's producer position after writing an item of `itemLength` bytes (34-byte header + content) that
 * starts at `start`, in the same file: the 3.0 binlog file is a sequence of 64 KiB blocks, each physical record
 * fragment has an 8-byte header, and a block tail shorter than 8 bytes is zero-padded (pika-protocol.md §6.3).
 * This is the resume point for TRYSYNC. Caveat: when the master rolls to a new file the item is stored at
 * `write2file<n+1>:0` although its header names file n (README surprise 4); that item's real end is only known
 * from the next item's header.
 */
export function legacyItemEnd(start: BinlogPosition, itemLength: number): BinlogPosition {
  let pos = start.offset;
  let left = itemLength;
  do {
    const blockLeft = BINLOG_BLOCK_SIZE - (pos % BINLOG_BLOCK_SIZE);
    if (blockLeft < BINLOG_RECORD_HEADER) {
      pos += blockLeft;
      continue;
    }
    const fragment = Math.min(left, blockLeft - BINLOG_RECORD_HEADER);
    pos += BINLOG_RECORD_HEADER + fragment;
    left -= fragment;
  } while (left > 0);
  return { filenum: start.filenum, offset: pos };
}

/** Decodes one whole frame body of the given type. */
export function decodeLegacyFrameBody(type: number, body: Buffer): LegacyFrame {
  if (type === LEGACY_FRAME_TYPE_AUTH) return { kind: 'auth', sid: decodeLegacyAuthBody(body) };
  if (type !== LEGACY_FRAME_TYPE_BINLOG) {
    fail(`unknown frame type ${type} (expected ${LEGACY_FRAME_TYPE_AUTH} auth or ${LEGACY_FRAME_TYPE_BINLOG} binlog)`);
  }
  const item = decodeBinlogItem(body);
  return { kind: 'binlog', item: { ...item, serverId: item.termId }, end: legacyItemEnd(item.start, body.length) };
}

/**
 * Streaming decoder: feed it the socket's chunks in order; it returns every frame completed by the chunk and keeps
 * the remainder. Any malformed frame throws `PikaProtocolError` (the connection must then be dropped: the stream
 * cannot be resynchronised). The first frame must be the auth frame, and only the first.
 */
export class LegacyFrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private framesSeen = 0;
  /** Bytes consumed by complete frames so far (for error messages). */
  private consumed = 0;
  /** Bytes the buffered data must reach before decoding can make progress. */
  private needed = LEGACY_FRAME_HEADER_LENGTH;

  constructor(private readonly maxBodyLength = DEFAULT_MAX_LEGACY_FRAME_BODY) {}

  /** True when no partial frame is buffered (a clean place for the master to close the connection). */
  get idle(): boolean {
    return this.pendingBytes === 0;
  }

  push(chunk: Uint8Array): LegacyFrame[] {
    if (chunk.length > 0) {
      this.pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.pendingBytes += chunk.length;
    }
    // Waiting for the rest of a known-length frame: don't copy the buffered chunks on every push.
    if (this.pendingBytes < this.needed) return [];
    const frames: LegacyFrame[] = [];
    const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    let pos = 0;
    this.needed = LEGACY_FRAME_HEADER_LENGTH;
    while (buf.length - pos >= LEGACY_FRAME_HEADER_LENGTH) {
      const type = buf.readUInt16LE(pos);
      const length = buf.readUInt32LE(pos + 2);
      const at = this.consumed + pos;
      if (type !== LEGACY_FRAME_TYPE_AUTH && type !== LEGACY_FRAME_TYPE_BINLOG) {
        fail(`frame at stream byte ${at}: unknown frame type ${type} (expected 1 auth or 2 binlog)`);
      }
      if (length > this.maxBodyLength) {
        fail(`frame at stream byte ${at}: body length ${length} exceeds the limit of ${this.maxBodyLength} bytes`);
      }
      if (buf.length - pos - LEGACY_FRAME_HEADER_LENGTH < length) {
        this.needed = LEGACY_FRAME_HEADER_LENGTH + length;
        break;
      }
      const body = buf.subarray(pos + LEGACY_FRAME_HEADER_LENGTH, pos + LEGACY_FRAME_HEADER_LENGTH + length);
      const isFirst = this.framesSeen === 0;
      if (isFirst && type !== LEGACY_FRAME_TYPE_AUTH) fail(`first frame has type ${type}; the master must send "auth <sid>" first`);
      if (!isFirst && type === LEGACY_FRAME_TYPE_AUTH) fail(`frame at stream byte ${at}: a second auth frame`);
      let frame: LegacyFrame;
      try {
        frame = decodeLegacyFrameBody(type, body);
      } catch (err) {
        if (err instanceof PikaProtocolError && err.message.startsWith('legacy binlog stream')) throw err;
        fail(`frame at stream byte ${at}: ${(err as Error).message}`, err);
      }
      frames.push(frame);
      this.framesSeen++;
      pos += LEGACY_FRAME_HEADER_LENGTH + length;
    }
    this.consumed += pos;
    // Returned frames are views into `buf`; the remainder is kept as a view too (buf is never written to).
    const rest = buf.subarray(pos);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return frames;
  }

  /** Call when the connection ends: throws if it ended inside a frame. */
  end(): void {
    if (this.pendingBytes > 0) fail(`connection ended inside a frame (${this.pendingBytes} bytes of it received)`);
  }
}

/** Encodes a frame (for tests and the test master). */
export function encodeLegacyFrame(type: number, body: Uint8Array): Buffer {
  const header = Buffer.alloc(LEGACY_FRAME_HEADER_LENGTH);
  header.writeUInt16LE(type, 0);
  header.writeUInt32LE(body.length, 2);
  return Buffer.concat([header, body]);
}
