// PB framing used on both of Pika's sync ports (port+2000 replication, port+10001 rsync2):
//
//   frame   := length payload
//   length  := uint32, big-endian — number of payload bytes (the prefix itself not included)
//   payload := one serialized protobuf message (InnerRequest/InnerResponse or RsyncRequest/RsyncResponse)
//
// Source: pika-protocol.md §3 (PbConn::GetRequest / BuildInternalTag in src/net/src/pb_conn.cc@v4.0.1).
import { PikaProtocolError } from './errors.ts';
import { docRef } from '../../../runtime/api/index.ts';

export const FRAME_HEADER_LENGTH = 4;

/**
 * Largest payload accepted by default: 512 MiB. Pika's master refuses frames of `kProtoMaxMessage` (512 MiB) and
 * more, but a single binlog item it sends can be as large as the value written, so the reader must take big frames.
 */
export const DEFAULT_MAX_FRAME_LENGTH = 512 * 1024 * 1024;

/**
 * Streaming frame parser. Feed it the socket's chunks in order; it returns each completed payload once.
 *
 * Contracts:
 * - Leftover bytes (a partial header or payload) are kept across `push` calls.
 * - A payload lying entirely inside one chunk is returned as a view of that chunk (no copy); a payload spread over
 *   several chunks is assembled with exactly one allocation of its final size. Callers that keep payloads long
 *   after decoding them may want to copy small ones so the big socket chunks can be freed.
 * - A length above `maxFrameLength` throws `PikaProtocolError` as soon as the 4-byte prefix is complete, before
 *   anything is allocated. After a throw the decoder is unusable (the stream position is lost).
 */
export class FrameDecoder {
  readonly maxFrameLength: number;
  private readonly header = Buffer.alloc(FRAME_HEADER_LENGTH);
  private headerFilled = 0;
  /** Payload length of the frame being assembled, or -1 while reading a header. */
  private expected = -1;
  private parts: Buffer[] = [];
  private partsLength = 0;
  private failed: PikaProtocolError | undefined;

  constructor(opts: { maxFrameLength?: number } = {}) {
    const max = opts.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH;
    if (!Number.isSafeInteger(max) || max < 0 || max > 0xffffffff) {
      throw new RangeError(`maxFrameLength must be an integer in 0..2^32-1, got ${max}`);
    }
    this.maxFrameLength = max;
  }

  /** Bytes received but not yet returned as part of a complete frame (header bytes included). */
  get bufferedBytes(): number {
    return this.headerFilled + this.partsLength;
  }

  /** True when the decoder is between frames (nothing buffered). */
  get isIdle(): boolean {
    return this.bufferedBytes === 0 && this.expected < 0;
  }

  /** Consumes `chunk`; returns the payloads completed by it, in order (possibly none). */
  push(chunk: Uint8Array): Buffer[] {
    if (this.failed) throw this.failed;
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < data.length) {
      if (this.expected < 0) {
        const take = Math.min(FRAME_HEADER_LENGTH - this.headerFilled, data.length - pos);
        data.copy(this.header, this.headerFilled, pos, pos + take);
        this.headerFilled += take;
        pos += take;
        if (this.headerFilled < FRAME_HEADER_LENGTH) break;
        this.startFrame(this.header.readUInt32BE(0));
        this.headerFilled = 0;
      }
      const missing = this.expected - this.partsLength;
      const available = data.length - pos;
      if (this.partsLength === 0 && available >= missing) {
        out.push(data.subarray(pos, pos + missing));
        pos += missing;
        this.expected = -1;
      } else if (available >= missing) {
        this.parts.push(data.subarray(pos, pos + missing));
        pos += missing;
        out.push(Buffer.concat(this.parts, this.expected));
        this.parts = [];
        this.partsLength = 0;
        this.expected = -1;
      } else {
        if (available > 0) this.parts.push(data.subarray(pos));
        this.partsLength += available;
        pos = data.length;
      }
    }
    return out;
  }

  /**
   * Call when the stream ends: throws if a frame was cut off (a truncated stream is never silently accepted).
   */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.isIdle) return;
    const what =
      this.expected < 0
        ? `${this.headerFilled} of ${FRAME_HEADER_LENGTH} length-prefix bytes`
        : `${this.partsLength} of ${this.expected} payload bytes`;
    throw new PikaProtocolError(`stream ended inside a frame: received ${what} ${docRef('protocolMismatch')}`, { code: 'PIKA_FRAME_TRUNCATED' });
  }

  private startFrame(length: number): void {
    if (length > this.maxFrameLength) {
      this.failed = new PikaProtocolError(
        `frame length ${length} exceeds the limit of ${this.maxFrameLength} bytes (length prefix ${this.header.toString('hex')}) ${docRef('protocolMismatch')}`,
        { code: 'PIKA_FRAME_TOO_LARGE' },
      );
      throw this.failed;
    }
    this.expected = length;
  }
}

/** The 4-byte prefix for a payload of `length` bytes (for writev-style sends of big payloads without copying). */
export function encodeFrameHeader(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0 || length > 0xffffffff) {
    throw new PikaProtocolError(`cannot frame a payload of ${length} bytes`);
  }
  const header = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
  header.writeUInt32BE(length, 0);
  return header;
}

/** One buffer holding prefix + payload. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + payload.length);
  encodeFrameHeader(payload.length).copy(frame, 0);
  frame.set(payload, FRAME_HEADER_LENGTH);
  return frame;
}
