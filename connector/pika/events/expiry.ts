// Absolute expiry (unix ms) of a binlog command, following Pika's semantics (pika-protocol.md §6.4):
// - pksetexat k <ts> v: ts = 0 → no expiry; ts < 0 → already expired; else unix seconds. Pika 4.0.1's PSETEX
//   writes NowMillis()+ms there instead (bug §12 #8); with profile '4.0' a value above 10^11 (year 5138 in
//   seconds) is read as milliseconds and flagged. 3.5 writes seconds.
// - expireat (s), pexpireat (ms): absolute. expire/pexpire/setex/psetex/SET EX…: relative, made absolute from the
//   item's exec_time (second resolution) and flagged.
import { PikaProtocolError } from '../protocol/errors.ts';
import type { ExpiryKind } from './commands.ts';
import { WARNING_PSETEX_MILLISECONDS, WARNING_RELATIVE_TTL, type PikaProfile } from './event.ts';

/** Above this a pksetexat timestamp cannot be seconds of a plausible date: it is milliseconds. */
export const PKSETEXAT_MILLISECONDS_THRESHOLD = 1e11;

export interface ExpiryResult {
  expireAtMs: number | null;
  warnings: string[];
}

const INTEGER = /^-?\d{1,19}$/;

/** `what` names the argument in the error (a function: only built when there is one). */
export function parseIntegerArg(arg: Uint8Array, what: string | (() => string)): number {
  const text = Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength).toString('latin1');
  const value = INTEGER.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) {
    throw new PikaProtocolError(`${typeof what === 'string' ? what : what()}: expected an integer, got ${JSON.stringify(text.slice(0, 40))}`, {
      code: 'PIKA_BINLOG_COMMAND',
    });
  }
  return value;
}

const none: ExpiryResult = { expireAtMs: null, warnings: [] };
const absolute = (ms: number, warnings: string[] = []): ExpiryResult => ({ expireAtMs: Math.max(0, ms), warnings });
const relative = (execTimeSec: number, ms: number): ExpiryResult => absolute(execTimeSec * 1000 + ms, [WARNING_RELATIVE_TTL]);

/**
 * @param argv full command (argv[0] = name), already checked against the command's minimum argc
 * @param execTimeSec the item's exec_time
 */
export function computeExpiry(kind: ExpiryKind, argv: Buffer[], execTimeSec: number, profile: PikaProfile): ExpiryResult {
  switch (kind) {
    case 'pksetexat': {
      const ts = ttlArg(argv, 2);
      if (ts === 0) return none;
      if (ts < 0) return absolute(0);
      if (profile === '4.0' && ts > PKSETEXAT_MILLISECONDS_THRESHOLD) return absolute(ts, [WARNING_PSETEX_MILLISECONDS]);
      return absolute(ts * 1000);
    }
    case 'expireat':
      return absolute(ttlArg(argv, 2) * 1000);
    case 'pexpireat':
      return absolute(ttlArg(argv, 2));
    case 'expire':
    case 'setex':
      return relative(execTimeSec, ttlArg(argv, 2) * 1000);
    case 'pexpire':
    case 'psetex':
      return relative(execTimeSec, ttlArg(argv, 2));
    case 'set-options':
      return argv.length > 3 ? setOptionsExpiry(argv, execTimeSec) : none;
  }
}

function ttlArg(argv: Buffer[], i: number): number {
  return parseIntegerArg(argv[i]!, () => `${argv[0]!.toString('latin1').toLowerCase()} argument ${i}`);
}

function setOptionsExpiry(argv: Buffer[], execTimeSec: number): ExpiryResult {
  let result = none;
  for (let i = 3; i < argv.length; i++) {
    const option = argv[i]!.toString('latin1').toLowerCase();
    if (option === 'nx' || option === 'xx' || option === 'keepttl' || option === 'get') continue;
    if (option !== 'ex' && option !== 'px' && option !== 'exat' && option !== 'pxat') {
      throw new PikaProtocolError(`set: unknown option ${JSON.stringify(option.slice(0, 40))}`, { code: 'PIKA_BINLOG_COMMAND' });
    }
    if (i + 1 >= argv.length) throw new PikaProtocolError(`set: option ${option} has no value`, { code: 'PIKA_BINLOG_COMMAND' });
    const value = parseIntegerArg(argv[++i]!, `set ${option}`);
    if (option === 'ex') result = relative(execTimeSec, value * 1000);
    else if (option === 'px') result = relative(execTimeSec, value);
    else if (option === 'exat') result = absolute(value * 1000);
    else result = absolute(value);
  }
  return result;
}
