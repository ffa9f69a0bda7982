import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DumpFormatError } from './errors.ts';

/**
 * The dump's `info` file (pika-protocol.md §7.3, written by `DB::DoBgSave`): `<secs>s\n<host>\n<port>\n
 * <binlog filenum>\n<binlog offset>\n`, plus `term\nindex\n` on 3.x with consensus. `snapshotUuid` is the
 * lowercase hex MD5 of the whole file (`DB::GetBgSaveUUID`).
 */
export interface DumpInfo {
  bgsaveSeconds: number;
  host: string;
  port: number;
  filenum: number;
  offset: number;
  term?: number;
  index?: number;
  snapshotUuid: string;
}

export function parseDumpInfo(bytes: Uint8Array, source = 'info'): DumpInfo {
  const text = Buffer.from(bytes).toString('latin1');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const fail = (problem: string): never => {
    throw new DumpFormatError(source, `${problem} (content ${JSON.stringify(text.slice(0, 200))})`);
  };
  if (lines.length !== 5 && lines.length !== 7) fail(`has ${lines.length} lines, expected 5 or 7`);
  const secs = /^(\d+)s$/.exec(lines[0]!);
  if (!secs) fail(`line 1 ${JSON.stringify(lines[0])} is not "<seconds>s"`);
  if (!lines[1]) fail('line 2 (master host) is empty');
  const num = (i: number, what: string): number => {
    const s = lines[i]!;
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))) fail(`line ${i + 1} (${what}) ${JSON.stringify(s)} is not a non-negative integer`);
    return Number(s);
  };
  const info: DumpInfo = {
    bgsaveSeconds: Number(secs![1]),
    host: lines[1]!,
    port: num(2, 'port'),
    filenum: num(3, 'binlog filenum'),
    offset: num(4, 'binlog offset'),
    snapshotUuid: createHash('md5').update(bytes).digest('hex'),
  };
  if (info.port > 65535) fail(`port ${info.port} out of range`);
  if (lines.length === 7) {
    info.term = num(5, 'term');
    info.index = num(6, 'index');
  }
  return info;
}

/** Reads `<dbDir>/info`. */
export async function readDumpInfo(dbDir: string): Promise<DumpInfo> {
  const path = join(dbDir, 'info');
  const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw new DumpFormatError(path, `cannot be read (${err.code ?? err.message})`, undefined, err);
  });
  return parseDumpInfo(bytes, path);
}
