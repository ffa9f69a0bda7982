// Shared types and helpers of the test master's command handlers.
//
// A handler runs one client command against one DB and returns the RESP reply plus the argv lists
// Pika 4.0.1 (or 3.5.x, per profile) appends to the binlog for it — verbatim argv by default,
// rewritten where Pika's `ToRedisProtocol` / `DoBinlog` rewrite (src/pika_kv.cc, pika_set.cc, … @v4.0.1).
// Rule taken from `Cmd::DoCommand`: a write command is binlogged iff its reply is not an error.

import type { Keyspace } from '../data/keyspace.ts';
import { WrongTypeError } from '../data/keyspace.ts';
import { reply, type Reply } from '../resp/resp-codec.ts';

export type Profile = '3.5' | '4.0';

export interface CommandContext {
  ks: Keyspace;
  profile: Profile;
  nowMs(): number;
}

export interface CommandResult {
  reply: Reply;
  /** argv lists to append to the binlog, in order (empty for reads and failed writes). */
  binlog: Buffer[][];
}

export type CommandHandler = (ctx: CommandContext, argv: Buffer[]) => CommandResult;

export interface CommandSpec {
  /** Redis-style arity: n = exactly n args (incl. name); -n = at least n. */
  arity: number;
  write: boolean;
  handler: CommandHandler;
}

export class CommandError extends Error {}

export const b = (s: string): Buffer => Buffer.from(s, 'latin1');
export const str = (buf: Buffer): string => buf.toString('latin1');

export function written(replyBytes: Reply, ...binlog: Buffer[][]): CommandResult {
  return { reply: replyBytes, binlog };
}

export function readOnly(replyBytes: Reply): CommandResult {
  return { reply: replyBytes, binlog: [] };
}

export function parseInteger(arg: Buffer): bigint {
  const text = str(arg);
  if (!/^-?\d+$/.test(text)) throw new CommandError('ERR value is not an integer or out of range');
  const n = BigInt(text);
  if (n > 9223372036854775807n || n < -9223372036854775808n) {
    throw new CommandError('ERR value is not an integer or out of range');
  }
  return n;
}

export function parseSafeInt(arg: Buffer): number {
  return Number(parseInteger(arg));
}

export function parseFloatArg(arg: Buffer): number {
  const text = str(arg).toLowerCase();
  if (text === 'inf' || text === '+inf') return Infinity;
  if (text === '-inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(text)) throw new CommandError('ERR value is not a valid float');
  return Number(text);
}

/** Runs a handler, turning CommandError / WrongTypeError into an error reply without binlog. */
export function runHandler(spec: CommandSpec, ctx: CommandContext, argv: Buffer[]): CommandResult {
  const name = str(argv[0]!).toLowerCase();
  const arityOk = spec.arity >= 0 ? argv.length === spec.arity : argv.length >= -spec.arity;
  if (!arityOk) return readOnly(reply.error(`ERR wrong number of arguments for '${name}' command`));
  try {
    return spec.handler(ctx, argv);
  } catch (err) {
    if (err instanceof CommandError) return readOnly(reply.error(err.message));
    if (err instanceof WrongTypeError) return readOnly(reply.error(err.message));
    throw err;
  }
}

/** Pika's `pstd::d2string`: integral values in (-2^52, 2^52) as integers, else printf("%.17g"). */
export function d2string(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value < 0 ? '-inf' : 'inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  if (value > -4503599627370495 && value < 4503599627370496 && Number.isInteger(value)) return String(value);
  return formatG17(value);
}

/** printf("%.17g") for a finite non-zero double. */
export function formatG17(value: number): string {
  const [mantissa, expText] = value.toExponential(16).split('e') as [string, string];
  const exp = Number(expText);
  const stripZeros = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= 17) {
    const sign = exp < 0 ? '-' : '+';
    const absExp = Math.abs(exp);
    return `${stripZeros(mantissa)}e${sign}${absExp < 10 ? '0' : ''}${absExp}`;
  }
  return stripZeros(value.toFixed(Math.max(0, 16 - exp)));
}

/** Shortest decimal text of a double without exponent (used for INCRBYFLOAT-style results). */
export function formatFloatValue(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return String(value);
  const text = String(value);
  return text.includes('e') ? formatG17(value) : text;
}
