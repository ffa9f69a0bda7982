// Reads a `.properties` file with java.util.Properties semantics (via dot-properties, checked against Java 17),
// keeping the line number of each key. Differences from Java, on purpose:
// - the file is read as UTF-8 (Java's Properties.load(InputStream) reads ISO-8859-1); invalid UTF-8 is a problem;
// - a leading byte-order mark is skipped;
// - a malformed \uXXXX escape is a problem for that key (Java throws for the whole file; dot-properties would
//   silently keep the text);
// - a key set twice is a problem (Java keeps the last value silently).
import { readFileSync } from 'node:fs';
import { parseLines, type Pair } from 'dot-properties';
import { ConfigError } from '../api/errors.ts';
import { type Entry, type Problem } from './problems.ts';

export interface ParsedProperties {
  /** Keys in file order; for a duplicated key, the last occurrence (Java's value). */
  entries: Map<string, Entry>;
  problems: Problem[];
}

/** Reads and parses `file`; throws ConfigError naming the path and the OS reason when it cannot be read. */
export function readPropertiesFile(file: string): ParsedProperties {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Node's message repeats the path after the reason ("ENOENT: no such file or directory, open 'x'").
    const reason = (e.message ?? String(err)).replace(/, \w+ '.*'$/s, '');
    throw new ConfigError([`${file}: cannot read the file (${reason})`], `Cannot load ${file}`);
  }
  const text = decodeUtf8(bytes);
  if (typeof text !== 'string') {
    return {
      entries: new Map(),
      problems: [{ origin: { kind: 'file', file, line: text.badLine }, message: 'not valid UTF-8 text' }],
    };
  }
  return parsePropertiesText(text, file);
}

function decodeUtf8(bytes: Buffer): string | { badLine: number } {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  try {
    return decoder.decode(bytes);
  } catch {
    let line = 1;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          decoder.decode(bytes.subarray(start, i));
        } catch {
          return { badLine: line };
        }
        line++;
        start = i + 1;
      }
    }
    return { badLine: line };
  }
}

/** Parses `.properties` text; `file` is only used to name locations. */
export function parsePropertiesText(text: string, file: string): ParsedProperties {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lineOf = lineLocator(src);
  const entries = new Map<string, Entry>();
  const problems: Problem[] = [];
  for (const node of parseLines(src, true)) {
    if (node.type !== 'PAIR') continue;
    const pair = node as Pair & { range: [number, number, number, number] };
    const [keyStart, keyEnd, valueStart, valueEnd] = pair.range;
    const origin = { kind: 'file', file, line: lineOf(keyStart) } as const;
    const entry: Entry = { key: pair.key, value: pair.value, origin };
    for (const [raw, what] of [[src.slice(keyStart, keyEnd), 'key'], [src.slice(valueStart, valueEnd), 'value']] as const) {
      const bad = malformedUnicodeEscape(raw);
      if (bad !== undefined) problems.push({ key: pair.key, origin, message: `malformed \\u escape in the ${what}: "${bad}"` });
    }
    if (pair.key === '') problems.push({ origin, message: 'empty key (the line starts with "=" or ":")' });
    const earlier = entries.get(pair.key);
    if (earlier) {
      const where = earlier.origin.kind === 'file' ? `line ${earlier.origin.line}` : 'earlier';
      problems.push({ key: pair.key, origin, message: `set twice (also on ${where}); remove one` });
      entries.delete(pair.key);
    }
    entries.set(pair.key, entry);
  }
  return { entries, problems };
}

/** Returns a function from a string offset to its 1-based line; `\n`, `\r\n` and a lone `\r` end a line, as in Java. */
function lineLocator(src: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (ch === '\n' || (ch === '\r' && src[i + 1] !== '\n')) starts.push(i + 1);
  }
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** The first `\u` escape in raw (still escaped) text that is not followed by four hex digits. */
function malformedUnicodeEscape(raw: string): string | undefined {
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== '\\') continue;
    if (raw[i + 1] === 'u') {
      const hex = raw.slice(i + 2, i + 6);
      if (!/^[0-9A-Fa-f]{4}$/.test(hex)) return raw.slice(i, i + 6);
      i += 5;
    } else {
      i += 1;
    }
  }
  return undefined;
}
