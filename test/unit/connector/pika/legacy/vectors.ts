// Test helpers: read the real Pika 3.0.16 legacy captures from ../shared (beside the repo).
import { readFileSync } from 'node:fs';

export const LEGACY_VECTORS = new URL('../../../../../../shared/pika-vectors-3.0.16-legacy/', import.meta.url);

export const legacyFile = (relative: string): Buffer => readFileSync(new URL(relative, LEGACY_VECTORS));

export interface JsonlFrame {
  stream_offset: number;
  type: number;
  len: number;
  auth?: string[][];
  server_id?: number;
  logic_id?: number;
  exec_time?: number;
  filenum?: number;
  offset?: number;
  content_len?: number;
  content?: string[][];
}

export function legacyJsonl<T>(relative: string): T[] {
  return legacyFile(relative).toString('utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);
}

/** Splits a redis-cli script line into arguments: bare words and "double-quoted" strings with \xHH escapes. */
export function scriptArgs(line: string): Buffer[] {
  const out: Buffer[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const m of line.matchAll(re)) {
    if (m[2] !== undefined) {
      out.push(Buffer.from(m[2]));
      continue;
    }
    const bytes: number[] = [];
    const s = m[1]!;
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '\\' && s[i + 1] === 'x') {
        bytes.push(parseInt(s.slice(i + 2, i + 4), 16));
        i += 3;
      } else if (s[i] === '\\') {
        const c = s[++i]!;
        bytes.push(({ n: 10, r: 13, t: 9 } as Record<string, number>)[c] ?? c.charCodeAt(0));
      } else {
        bytes.push(...Buffer.from(s[i]!));
      }
    }
    out.push(Buffer.from(bytes));
  }
  return out;
}

export function scriptCommands(relative: string): Buffer[][] {
  return legacyFile(relative).toString('utf8').split('\n').filter((l) => l.trim() !== '').map(scriptArgs);
}
