// Key patterns of the event filters (filter.keys.include, filter.keys.exclude, filter.exclude).
//
// A pattern list is comma-separated; whitespace around each pattern is ignored. One pattern is:
//   re:<regex>   JavaScript regular expression, searched anywhere in the key (anchor it with ^…$);
//                commas inside (), [] or {} do not split the list, elsewhere write \, ;
//   <text>*      prefix: every key starting with <text> (a lone * matches every key);
//   <text>       exact key.
// Escapes in exact/prefix patterns: \, (comma)  \* (a literal *, e.g. at the end)  \\ (backslash)
// \xNN (one byte, for binary keys) \s (space, since surrounding spaces are trimmed). A * anywhere but at the
// end is an error (use re: for wildcards). pika-port-kafka treated patterns with regex characters as regexes;
// here they need the re: prefix.
//
// Keys are matched on their exact bytes: exact and prefix patterns are UTF-8 (plus \xNN bytes). A regex sees
// the key as text when it is valid UTF-8, otherwise one character per byte (U+0000..U+00FF), so `\xff`
// matches byte 0xff of a binary key.

export type KeyPattern =
  | { kind: 'exact'; source: string; bytes: Buffer }
  | { kind: 'prefix'; source: string; bytes: Buffer }
  | { kind: 'regex'; source: string; regex: RegExp };

export class KeyPatternError extends Error {}

const OPEN = '([{';
const CLOSE = ')]}';

/** Splits a list on commas that are not escaped and, in re: items, not inside (), [] or {}. */
export function splitPatternList(value: string): string[] {
  const items: string[] = [];
  let start = 0;
  let depth = 0;
  let inClass = false;
  let isRegex = value.trimStart().startsWith('re:');
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\') {
      i++;
      continue;
    }
    if (isRegex) {
      if (inClass) {
        if (ch === ']') inClass = false;
        continue;
      }
      if (ch === '[') {
        inClass = true;
        continue;
      }
      if (OPEN.includes(ch)) depth++;
      else if (CLOSE.includes(ch) && depth > 0) depth--;
    }
    if (ch === ',' && depth === 0 && !inClass) {
      items.push(value.slice(start, i));
      start = i + 1;
      isRegex = value.slice(start).trimStart().startsWith('re:');
    }
  }
  items.push(value.slice(start));
  return items.map((s) => s.trim());
}

function unescapeLiteral(text: string, source: string): Buffer {
  const parts: Buffer[] = [];
  let plain = '';
  const flush = (): void => {
    if (plain !== '') parts.push(Buffer.from(plain, 'utf8'));
    plain = '';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '*') throw new KeyPatternError(`key pattern "${source}": a * only works at the end (prefix match); use re:<regex> for wildcards or \\* for a literal *`);
    if (ch !== '\\') {
      plain += ch;
      continue;
    }
    const next = text[i + 1];
    if (next === ',' || next === '*' || next === '\\') {
      plain += next;
      i++;
    } else if (next === 's') {
      plain += ' ';
      i++;
    } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
      flush();
      parts.push(Buffer.from([parseInt(text.slice(i + 2, i + 4), 16)]));
      i += 3;
    } else {
      throw new KeyPatternError(`key pattern "${source}": unknown escape "\\${next ?? ''}" (known: \\, \\* \\\\ \\s \\xNN)`);
    }
  }
  flush();
  return Buffer.concat(parts);
}

/** Compiles one pattern (already trimmed); throws KeyPatternError naming the pattern and the problem. */
export function compileKeyPattern(source: string): KeyPattern {
  if (source === '') throw new KeyPatternError('empty key pattern (two commas in a row, or a trailing comma?)');
  if (source.startsWith('re:')) {
    const body = source.slice(3);
    if (body === '') throw new KeyPatternError(`key pattern "${source}": empty regex`);
    try {
      return { kind: 'regex', source, regex: new RegExp(body) };
    } catch (err) {
      throw new KeyPatternError(`key pattern "${source}": invalid regex /${body}/: ${(err as Error).message}`);
    }
  }
  // A trailing * is a prefix marker unless escaped (an odd number of backslashes before it).
  const trailingBackslashes = /(\\*)\*$/.exec(source)?.[1]?.length;
  if (trailingBackslashes !== undefined && trailingBackslashes % 2 === 0) {
    return { kind: 'prefix', source, bytes: unescapeLiteral(source.slice(0, -1), source) };
  }
  return { kind: 'exact', source, bytes: unescapeLiteral(source, source) };
}

/** Compiles a whole list; returns the patterns and one message per bad pattern. */
export function compileKeyPatternList(value: string): { patterns: KeyPattern[]; problems: string[] } {
  const patterns: KeyPattern[] = [];
  const problems: string[] = [];
  for (const item of splitPatternList(value)) {
    try {
      patterns.push(compileKeyPattern(item));
    } catch (err) {
      if (!(err instanceof KeyPatternError)) throw err;
      problems.push(err.message);
    }
  }
  return { patterns, problems };
}
