// PB framing on port+2000 and port+10001: 4-byte big-endian body length + protobuf body
// (PbConn::GetRequest / BuildInternalTag, src/net/src/pb_conn.cc @v4.0.1). Pika refuses bodies of
// kProtoMaxMessage (512 MiB) or more by closing the connection.

export const MAX_FRAME_BODY = 512 * 1024 * 1024;

export class FrameTooLargeError extends Error {}

export function encodeFrame(body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Feeds bytes; returns every complete frame body. Throws FrameTooLargeError on an oversized header. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const bodies: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const length = head.readUInt32BE(0);
      if (length >= MAX_FRAME_BODY) throw new FrameTooLargeError(`frame body of ${length} bytes ≥ 512 MiB`);
      if (this.buffered < 4 + length) break;
      const all = this.take(4 + length);
      bodies.push(all.subarray(4));
    }
    return bodies;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered -= n;
    return out;
  }
}
