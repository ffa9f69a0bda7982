// Matches an event's key against a compiled pattern list, on the key's exact bytes (see key-patterns.ts).
// Contract: `matches` allocates nothing for UTF-8 keys (event.key set) unless a prefix pattern holds non-UTF-8
// bytes; binary keys (key null, key_b64 set) are decoded into a reused buffer, and only regexes need a string.
// Not thread-safe by design (a reused scratch buffer): one matcher per task.
import type { KeyPattern } from './key-patterns.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Base64 of the bytes EF BB BF (a UTF-8 byte-order mark) at the start of a key. */
const BOM_B64 = '77u/';

function asUtf8(bytes: Buffer): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

export class KeyMatcher {
  /** Exact patterns that are valid UTF-8, as text: one Set lookup for text keys. */
  private readonly exactText = new Set<string>();
  /** Every exact pattern as bytes (binary keys; non-UTF-8 patterns can only equal binary keys). */
  private readonly exactBytes: Buffer[] = [];
  private readonly prefixText: string[] = [];
  /** Prefixes holding non-UTF-8 bytes: a UTF-8 key can start with them (a cut multi-byte character). */
  private readonly prefixRawBytes: Buffer[] = [];
  private readonly prefixBytes: Buffer[] = [];
  private readonly regexes: RegExp[] = [];
  private scratch = Buffer.alloc(256);
  readonly size: number;

  constructor(patterns: readonly KeyPattern[]) {
    for (const p of patterns) {
      if (p.kind === 'regex') {
        this.regexes.push(p.regex);
        continue;
      }
      const text = asUtf8(p.bytes);
      if (p.kind === 'exact') {
        this.exactBytes.push(p.bytes);
        if (text !== null) this.exactText.add(text);
      } else {
        this.prefixBytes.push(p.bytes);
        if (text !== null) this.prefixText.push(text);
        else this.prefixRawBytes.push(p.bytes);
      }
    }
    this.size = patterns.length;
  }

  /**
   * Does one pattern match the key? `key` is the text of a valid UTF-8 key (null otherwise), `keyB64` its
   * exact bytes. Callers skip keyless events before asking.
   */
  matches(key: string | null, keyB64: string): boolean {
    if (key === null) return this.matchesBinary(keyB64);
    // A decoder that drops a leading byte-order mark gives a text that is not the key: use the bytes' text.
    if (keyB64.startsWith(BOM_B64)) return this.matchesText(utf8.decode(this.scratch.subarray(0, this.load(keyB64, 'base64', keyB64.length))));
    return this.matchesText(key);
  }

  private matchesText(key: string): boolean {
    if (this.exactText.has(key)) return true;
    for (const prefix of this.prefixText) if (key.startsWith(prefix)) return true;
    if (this.prefixRawBytes.length > 0) {
      const len = this.load(key, 'utf8', Buffer.byteLength(key, 'utf8'));
      for (const prefix of this.prefixRawBytes) if (this.startsWith(prefix, len)) return true;
    }
    for (const regex of this.regexes) if (regex.test(key)) return true;
    return false;
  }

  private matchesBinary(keyB64: string): boolean {
    const len = this.load(keyB64, 'base64', Math.ceil((keyB64.length * 3) / 4));
    for (const exact of this.exactBytes) {
      if (exact.length === len && this.scratch.compare(exact, 0, len, 0, len) === 0) return true;
    }
    for (const prefix of this.prefixBytes) if (this.startsWith(prefix, len)) return true;
    if (this.regexes.length > 0) {
      const text = this.scratch.toString('latin1', 0, len);
      for (const regex of this.regexes) if (regex.test(text)) return true;
    }
    return false;
  }

  private startsWith(prefix: Buffer, len: number): boolean {
    return prefix.length <= len && this.scratch.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
  }

  /** Writes the key's bytes into the scratch buffer (grown when too small); returns their length. */
  private load(value: string, encoding: 'utf8' | 'base64', maxBytes: number): number {
    if (this.scratch.length < maxBytes) this.scratch = Buffer.alloc(Math.max(maxBytes, this.scratch.length * 2));
    return this.scratch.write(value, 0, encoding);
  }
}
