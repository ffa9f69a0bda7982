// Test helper: reads a redis-cli script (phase*_*.redis) and applies the binlog rewrites Pika is documented to
// make (pika-vectors/README.md "Binlog rewrites seen"), giving the key-level changes the binlog should carry.
import { readFileSync } from 'node:fs';
import { sharedDir } from '../protocol/vector-frames.ts';

/** Splits one redis-cli line: spaces separate words; "…" allows spaces and \xHH, \r, \n, \t, \\, \" escapes. */
export function tokenize(line: string): Buffer[] {
  const words: Buffer[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    const bytes: number[] = [];
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\') {
          const next = line[i + 1];
          if (next === 'x') {
            bytes.push(parseInt(line.slice(i + 2, i + 4), 16));
            i += 4;
            continue;
          }
          bytes.push(({ r: 13, n: 10, t: 9 } as Record<string, number>)[next!] ?? next!.charCodeAt(0));
          i += 2;
          continue;
        }
        bytes.push(...Buffer.from(line[i]!));
        i++;
      }
      i++; // closing quote
    } else {
      while (i < line.length && line[i] !== ' ') bytes.push(...Buffer.from(line[i++]!));
    }
    words.push(Buffer.from(bytes));
  }
  return words;
}

export interface ExpectedChange {
  db: number;
  op: string;
  key: Buffer | null;
  /** The client command this change came from (for messages). */
  from: string;
}

export function expectedChanges(vectorSet: string, script: string, version: '4.0' | '3.5'): ExpectedChange[] {
  const text = readFileSync(new URL(`${vectorSet}/${script}`, sharedDir), 'latin1');
  const out: ExpectedChange[] = [];
  let db = 0;
  /** Keys the script itself made strings (enough to tell whether the script's MSETNX calls succeed). */
  const stringKeys = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [nameBuf, ...args] = tokenize(line);
    const name = nameBuf!.toString().toUpperCase();
    const from = line.slice(0, 60);
    const add = (op: string, key: Buffer | null): void => {
      out.push({ db, op, key, from });
      if (key && (op === 'set' || op === 'pksetexat')) stringKeys.add(`${db}/${key.toString('latin1')}`);
    };
    const hasExpiryOption = args.slice(2).some((a) => /^(ex|px)$/i.test(a.toString()));
    switch (name) {
      case 'SELECT':
        db = Number(args[0]!.toString());
        break;
      case 'SET':
        add(hasExpiryOption ? 'pksetexat' : 'set', args[0]!);
        break;
      case 'SETEX':
      case 'PSETEX':
      case 'INCR':
      case 'INCRBY':
      case 'INCRBYFLOAT':
      case 'APPEND':
        add('pksetexat', args[0]!);
        break;
      case 'MSET':
      case 'MSETNX': {
        const keys = args.filter((_, i) => i % 2 === 0);
        // Observed: an MSETNX that sets nothing (a key exists) writes no binlog, unlike SETNX / SET NX.
        if (name === 'MSETNX' && keys.some((k) => stringKeys.has(`${db}/${k.toString('latin1')}`))) break;
        for (const key of keys) add('set', key);
        break;
      }
      case 'DEL':
        for (const key of args) add('del', key);
        break;
      case 'EXPIRE':
        add('expireat', args[0]!);
        break;
      case 'PEXPIRE':
        add(version === '4.0' ? 'pexpireat' : 'expireat', args[0]!);
        break;
      case 'SPOP':
        add('srem', args[0]!);
        break;
      case 'SMOVE':
        add('srem', args[0]!);
        add('sadd', args[1]!);
        break;
      case 'SUNIONSTORE':
        add('del', args[0]!);
        add('sadd', args[0]!);
        break;
      case 'ZUNIONSTORE':
        add('del', args[0]!);
        add('zadd', args[0]!);
        break;
      case 'RPOPLPUSH':
        add('rpop', args[0]!);
        add('lpush', args[1]!);
        break;
      case 'BITOP':
        add('set', args[1]!);
        break;
      case 'PFMERGE':
        add('set', args[0]!);
        break;
      case 'FLUSHDB':
        add('flushdb', null);
        break;
      default:
        add(name.toLowerCase(), args[0]!);
    }
  }
  return out;
}

/** The data type a key of the test scripts holds, from its name (p2:hash:h1, p2:db1:zset, …). */
export function dataTypeOfTestKey(key: Buffer): string {
  const name = key.toString('latin1');
  for (const type of ['hash', 'list', 'zset', 'set', 'stream']) if (new RegExp(`(^|:)${type}\\d*(:|$)`).test(name)) return type;
  return 'string';
}
