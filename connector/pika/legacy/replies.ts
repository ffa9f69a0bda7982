// Incremental reader for the RESP replies a Pika 2.x/3.0 master sends on its RESP port and heartbeat port:
// simple strings, errors, integers and bulk strings (`$-1` = null). Arrays are never sent on these paths and are
// rejected, like any other malformed byte.
import { PikaProtocolError } from '../protocol/errors.ts';

export type LegacyReply =
  | { kind: 'simple'; text: string }
  | { kind: 'error'; text: string }
  | { kind: 'integer'; value: number }
  | { kind: 'bulk'; text: string | null };

/** Longest reply line we accept (Pika's trysync client reads into a 256-byte buffer). */
const MAX_LINE = 4096;

function fail(message: string): never {
  throw new PikaProtocolError(`legacy master reply: ${message}`, { code: 'PIKA_LEGACY_REPLY' });
}

export class LegacyReplyReader {
  private buf = Buffer.alloc(0);

  /** Feeds bytes; returns every complete reply. */
  push(chunk: Uint8Array): LegacyReply[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: LegacyReply[] = [];
    for (;;) {
      const parsed = this.parseOne();
      if (!parsed) break;
      out.push(parsed.reply);
      this.buf = this.buf.subarray(parsed.length);
    }
    return out;
  }

  /** True when no partial reply is buffered. */
  get idle(): boolean {
    return this.buf.length === 0;
  }

  private parseOne(): { reply: LegacyReply; length: number } | null {
    const eol = this.buf.indexOf('\r\n');
    if (eol < 0) {
      if (this.buf.length > MAX_LINE) fail(`no CRLF within ${MAX_LINE} bytes`);
      return null;
    }
    const line = this.buf.subarray(1, eol).toString('latin1');
    const kind = this.buf[0];
    switch (kind) {
      case 0x2b: // '+'
        return { reply: { kind: 'simple', text: line }, length: eol + 2 };
      case 0x2d: // '-'
        return { reply: { kind: 'error', text: line }, length: eol + 2 };
      case 0x3a: // ':'
        if (!/^-?[0-9]{1,15}$/.test(line)) fail(`integer reply ${JSON.stringify(line)} is not a number`);
        return { reply: { kind: 'integer', value: Number(line) }, length: eol + 2 };
      case 0x24: { // '$'
        if (line === '-1') return { reply: { kind: 'bulk', text: null }, length: eol + 2 };
        if (!/^[0-9]{1,9}$/.test(line)) fail(`bulk length ${JSON.stringify(line)} is not a number`);
        const n = Number(line);
        if (n > MAX_LINE) fail(`bulk reply of ${n} bytes is longer than any reply this master sends`);
        const end = eol + 2 + n;
        if (this.buf.length < end + 2) return null;
        if (this.buf[end] !== 0x0d || this.buf[end + 1] !== 0x0a) fail('bulk reply is not followed by CRLF');
        return { reply: { kind: 'bulk', text: this.buf.subarray(eol + 2, end).toString('latin1') }, length: end + 2 };
      }
      default:
        fail(`unexpected first byte 0x${(kind ?? 0).toString(16).padStart(2, '0')} (expected + - : or $)`);
    }
  }
}

/** The reply's text whatever its type (Pika's own client compares replies by text). */
export function replyText(reply: LegacyReply): string {
  if (reply.kind === 'integer') return String(reply.value);
  return reply.text ?? '';
}
