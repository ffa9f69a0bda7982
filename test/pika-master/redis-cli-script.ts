// Parses command scripts written in redis-cli syntax (one command per line; arguments split on
// blanks; "double quotes" with \xHH \n \r \t \" \\ escapes; 'single quotes' literal), as used by
// /work/shared/pika-vectors*/phase*.redis.

export class ScriptSyntaxError extends Error {}

export function parseRedisCliScript(text: string): Buffer[][] {
  const commands: Buffer[][] = [];
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.replace(/\r$/, '');
    if (line.trim() === '') return;
    try {
      commands.push(parseRedisCliLine(line));
    } catch (err) {
      throw new ScriptSyntaxError(`line ${index + 1}: ${(err as Error).message}`);
    }
  });
  return commands;
}

export function parseRedisCliLine(line: string): Buffer[] {
  const args: Buffer[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length) break;
    const bytes: number[] = [];
    const quote = line[i] === '"' || line[i] === "'" ? line[i]! : undefined;
    if (quote) i++;
    for (;;) {
      if (i >= line.length) {
        if (quote) throw new Error('unterminated quotes');
        break;
      }
      const ch = line[i]!;
      if (quote && ch === quote) {
        i++;
        if (i < line.length && !/\s/.test(line[i]!)) throw new Error('closing quote must be followed by a space');
        break;
      }
      if (!quote && /\s/.test(ch)) break;
      if (quote === '"' && ch === '\\' && i + 1 < line.length) {
        const next = line[i + 1]!;
        if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
          bytes.push(parseInt(line.slice(i + 2, i + 4), 16));
          i += 4;
          continue;
        }
        const simple: Record<string, number> = { n: 10, r: 13, t: 9, b: 8, a: 7 };
        bytes.push(simple[next] ?? next.charCodeAt(0));
        i += 2;
        continue;
      }
      if (quote === "'" && ch === '\\' && line[i + 1] === "'") {
        bytes.push(39);
        i += 2;
        continue;
      }
      bytes.push(...Buffer.from(ch, 'utf8'));
      i++;
    }
    args.push(Buffer.from(bytes));
  }
  return args;
}
