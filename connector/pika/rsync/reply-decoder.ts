// rsync2 replies as the client uses them, decoded without gathering a file chunk into one buffer: a frame stays the
// list of socket chunks it arrived in, and a file reply's `data` is a list of views into them, which the client
// writes with one positional writev. Frames (4-byte big-endian length + RsyncResponse, pika-protocol.md §3/§4.3)
// are split here; a reply that is small, or not in the canonical field order a C++ or protobufjs encoder writes,
// is gathered and decoded by protobufjs as before (which also gives the clear error for a malformed one).
import { decodeRsyncResponse, RsyncType, type RsyncResponse } from '../protocol/messages.ts';
import { RsyncError } from './errors.ts';

/** Smaller frames are gathered and decoded by protobufjs (the copy is cheap). */
const GATHER_BELOW = 256 * 1024;

export interface FileChunk {
  eof: number;
  count: bigint;
  offset: bigint;
  /** The chunk's bytes, in order: views into received socket chunks (do not modify). */
  data: Buffer[];
  /** Total length of `data`. */
  length: number;
  checksum: string;
  filename: string;
}

export type RsyncReply = Omit<RsyncResponse, 'file_resp'> & { file_resp?: FileChunk };

/** Splits the byte stream into frames, each returned as the list of chunk views holding its payload. */
export class FrameSplitter {
  private readonly header = Buffer.alloc(4);
  private headerFilled = 0;
  private expected = -1;
  private parts: Buffer[] = [];
  private filled = 0;

  constructor(private readonly maxFrameLength: number) {}

  push(chunk: Uint8Array): Buffer[][] {
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const frames: Buffer[][] = [];
    let pos = 0;
    while (pos < data.length) {
      if (this.expected < 0) {
        const take = Math.min(4 - this.headerFilled, data.length - pos);
        data.copy(this.header, this.headerFilled, pos, pos + take);
        this.headerFilled += take;
        pos += take;
        if (this.headerFilled < 4) break;
        this.headerFilled = 0;
        this.expected = this.header.readUInt32BE(0);
        if (this.expected > this.maxFrameLength) {
          throw new RsyncError(`rsync2 frame of ${this.expected} bytes exceeds the limit of ${this.maxFrameLength}`);
        }
      }
      const take = Math.min(this.expected - this.filled, data.length - pos);
      if (take > 0) this.parts.push(data.subarray(pos, pos + take));
      this.filled += take;
      pos += take;
      if (this.filled === this.expected) {
        frames.push(this.parts);
        this.parts = [];
        this.filled = 0;
        this.expected = -1;
      }
    }
    return frames;
  }
}

/** Decodes one frame's payload. Throws (protobufjs's error) when it is not a valid RsyncResponse. */
export function decodeReply(parts: Buffer[]): RsyncReply {
  const total = parts.reduce((n, p) => n + p.length, 0);
  if (total >= GATHER_BELOW && parts.length > 1) {
    const fast = walkFileReply(new Cursor(parts), total);
    if (fast) return fast;
  }
  // A payload inside one socket chunk is copied, so the decoded views do not pin that chunk.
  const whole = parts.length === 1 && total < GATHER_BELOW ? Buffer.from(parts[0]!) : Buffer.concat(parts, total);
  const r = decodeRsyncResponse(whole);
  if (!r.file_resp) return { ...r, file_resp: undefined };
  const { data, ...rest } = r.file_resp;
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { ...r, file_resp: { ...rest, data: [view], length: view.length } };
}

/** Reads the wire format across chunk boundaries. */
class Cursor {
  private part = 0;
  private at = 0;
  pos = 0;
  constructor(private readonly parts: Buffer[]) {}

  private byte(): number {
    while (this.at >= this.parts[this.part]!.length) {
      this.part++;
      this.at = 0;
    }
    this.pos++;
    return this.parts[this.part]![this.at++]!;
  }

  varint(end: number): bigint | undefined {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= end) return undefined;
      const b = this.byte();
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
    return undefined;
  }

  take(n: number): Buffer[] {
    const out: Buffer[] = [];
    this.pos += n;
    while (n > 0) {
      const p = this.parts[this.part]!;
      if (this.at >= p.length) {
        this.part++;
        this.at = 0;
        continue;
      }
      const k = Math.min(n, p.length - this.at);
      out.push(p.subarray(this.at, this.at + k));
      this.at += k;
      n -= k;
    }
    return out;
  }

  text(n: number): string {
    const views = this.take(n);
    return (views.length === 1 ? views[0]! : Buffer.concat(views)).toString('utf8');
  }
}

/** Length of a length-delimited field, if it fits before `end`. */
function lengthWithin(c: Cursor, end: number): number | undefined {
  const n = c.varint(end);
  return n === undefined || n > BigInt(end - c.pos) ? undefined : Number(n);
}

/**
 * A kRsyncFile reply in the canonical layout (each field once, only known fields, right wire types). Anything else
 * returns undefined and goes the general way.
 */
function walkFileReply(c: Cursor, end: number): RsyncReply | undefined {
  const seen = new Set<number>();
  const top: Partial<Record<number, bigint | string>> = {};
  let file: FileChunk | undefined;
  while (c.pos < end) {
    const tag = c.varint(end);
    if (tag === undefined) return undefined;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (seen.has(field)) return undefined;
    seen.add(field);
    if ([1, 2, 5, 6].includes(field) && wire === 0) {
      const v = c.varint(end);
      if (v === undefined) return undefined;
      top[field] = v;
    } else if ((field === 3 || field === 4) && wire === 2) {
      const n = lengthWithin(c, end);
      if (n === undefined) return undefined;
      top[field] = c.text(n);
    } else if (field === 8 && wire === 2) {
      const n = lengthWithin(c, end);
      if (n === undefined) return undefined;
      file = walkFileChunk(c, c.pos + n);
      if (!file) return undefined;
    } else return undefined;
  }
  const type = top[1];
  if (!file || type !== BigInt(RsyncType.kRsyncFile) || [2, 3, 4, 5, 6].some((f) => top[f] === undefined)) return undefined;
  return {
    type: RsyncType.kRsyncFile,
    reader_index: Number(BigInt.asIntN(32, top[2] as bigint)),
    snapshot_uuid: top[3] as string,
    db_name: top[4] as string,
    slot_id: Number(BigInt.asUintN(32, top[5] as bigint)),
    code: Number(BigInt.asIntN(32, top[6] as bigint)),
    file_resp: file,
  };
}

function walkFileChunk(c: Cursor, end: number): FileChunk | undefined {
  const seen = new Set<number>();
  const ints: Partial<Record<number, bigint>> = {};
  const texts: Partial<Record<number, string>> = {};
  let data: Buffer[] | undefined;
  let length = 0;
  while (c.pos < end) {
    const tag = c.varint(end);
    if (tag === undefined) return undefined;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (seen.has(field)) return undefined;
    seen.add(field);
    if (field >= 1 && field <= 3 && wire === 0) {
      const v = c.varint(end);
      if (v === undefined) return undefined;
      ints[field] = v;
    } else if (field >= 4 && field <= 6 && wire === 2) {
      const n = lengthWithin(c, end);
      if (n === undefined) return undefined;
      if (field === 4) {
        data = c.take(n);
        length = n;
      } else texts[field] = c.text(n);
    } else return undefined;
  }
  if (c.pos !== end || !data || ints[1] === undefined || ints[2] === undefined || ints[3] === undefined || texts[5] === undefined || texts[6] === undefined) {
    return undefined;
  }
  return {
    eof: Number(BigInt.asIntN(32, ints[1])),
    count: BigInt.asUintN(64, ints[2]),
    offset: BigInt.asUintN(64, ints[3]),
    data,
    length,
    checksum: texts[5],
    filename: texts[6],
  };
}
