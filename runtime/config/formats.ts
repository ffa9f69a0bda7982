// Value formats of config keys: how a raw `.properties` string becomes a typed value, and what makes it valid.
// Each format is registered with convict (coerce + validate), and every value is checked through convict, so the
// schemas stay plain data that docs and a REST `validate` endpoint can read.
import convict from 'convict';

export interface ValueFormat<T = unknown> {
  /** Unique convict format name. */
  readonly name: string;
  /** Type shown in docs, e.g. `int`, `list`, `boolean`. */
  readonly type: string;
  /** Valid values in words, for docs. */
  readonly describe: string;
  /** Turns the raw string into the typed value; returns the raw string unchanged when it cannot. */
  coerce(raw: string): T | string;
  /** True when check() messages already quote the offending parts (list formats): no need to repeat the value. */
  readonly quotesBadParts?: boolean;
  /** Throws an Error whose message says what a valid value looks like. */
  check(value: unknown): asserts value is T;
}

const registered = new Set<string>();

function define<T>(format: ValueFormat<T>): ValueFormat<T> {
  if (!registered.has(format.name)) {
    convict.addFormat({
      name: format.name,
      coerce: (v: unknown) => (typeof v === 'string' ? format.coerce(v) : v),
      validate: (v: unknown) => format.check(v),
    });
    registered.add(format.name);
  }
  return format;
}

export type CheckResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** Coerces and validates one raw value through convict. */
export function checkValue<T>(format: ValueFormat<T>, raw: string): CheckResult<T> {
  // `sensitive` keeps convict from appending the value; the caller decides whether to show it.
  const instance = convict<{ v: unknown }>(
    { v: { default: null, format: format.name, sensitive: true } },
    { env: {}, args: [] },
  );
  try {
    instance.load({ v: raw });
    instance.validate({ allowed: 'strict' });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, message: message.replace(/^v: /, '') };
  }
  return { ok: true, value: instance.get('v') as T };
}

function fail(message: string): never {
  throw new Error(message);
}

const INTEGER = /^[+-]?\d+$/;
const INT32_MAX = 2 ** 31 - 1;
const SHORT_MAX = 2 ** 15 - 1;
/** Kafka's LONG keys are capped at the largest integer a JavaScript number holds exactly. */
const LONG_MAX = Number.MAX_SAFE_INTEGER;

interface IntRange {
  name: string;
  min: number;
  max: number;
  /** Also accept -1 (meaning "broker default" or "forever"), below `min`. */
  minusOne?: boolean;
  message: string;
}

function integer(range: IntRange): ValueFormat<number> {
  const inRange = (n: number) => (n >= range.min && n <= range.max) || (range.minusOne === true && n === -1);
  return define<number>({
    name: range.name,
    type: 'int',
    describe: `${range.minusOne ? '-1 or ' : ''}${range.max === LONG_MAX ? `>= ${range.min}` : `[${range.min}, ${range.max}]`}`,
    coerce: (raw) => (INTEGER.test(raw.trim()) ? Number(raw.trim()) : raw),
    check(v): asserts v is number {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || !inRange(v)) fail(range.message);
    },
  });
}


export const positiveInt = integer({ name: 'pc:positive-int', min: 1, max: INT32_MAX, message: 'must be a positive integer' });
export const positiveMs = integer({
  name: 'pc:positive-ms', min: 1, max: LONG_MAX, message: 'must be a positive integer (milliseconds)',
});
export const nonNegativeMs = integer({
  name: 'pc:non-negative-ms', min: 0, max: LONG_MAX, message: 'must be a non-negative integer (milliseconds)',
});
export const retryTimeoutMs = integer({
  name: 'pc:retry-timeout-ms', min: 0, max: LONG_MAX, minusOne: true,
  message: 'must be -1 (retry forever) or a non-negative integer (milliseconds)',
});
export const partitionCount = integer({
  name: 'pc:partitions', min: 1, max: INT32_MAX, minusOne: true,
  message: 'must be a positive integer or -1 (broker default)',
});
export const replicationFactor = integer({
  name: 'pc:replication-factor', min: 1, max: SHORT_MAX, minusOne: true,
  message: `must be an integer in [1, ${SHORT_MAX}] or -1 (broker default)`,
});

export const boolean = define<boolean>({
  name: 'pc:boolean',
  type: 'boolean',
  describe: 'true, false',
  coerce(raw) {
    const v = raw.trim().toLowerCase();
    return v === 'true' ? true : v === 'false' ? false : raw;
  },
  check(v): asserts v is boolean {
    if (typeof v !== 'boolean') fail('must be true or false');
  },
});

/** Case-insensitive choice among lower-case (or, with `upper`, upper-case) words, as Kafka's CaseInsensitiveValidString. */
export function oneOf<const T extends string>(choices: readonly T[], opts: { upper?: boolean; hint?: string } = {}): ValueFormat<T> {
  const norm = (s: string) => (opts.upper ? s.trim().toUpperCase() : s.trim().toLowerCase());
  return define<T>({
    // Registered once per distinct (choices, options): convict keeps the first format of a name.
    name: `pc:one-of(${choices.join('|')})${JSON.stringify(opts)}`,
    type: 'string',
    describe: choices.join(', '),
    coerce: (raw) => ((choices as readonly string[]).includes(norm(raw)) ? (norm(raw) as T) : raw),
    check(v): asserts v is T {
      if (!(choices as readonly string[]).includes(v as string)) {
        fail(`must be one of ${choices.join(', ')}${opts.hint ? ` (${opts.hint})` : ''}`);
      }
    },
  });
}

/** Kafka's LIST parsing: split on commas, trim each item; an all-blank value is the empty list. */
export function splitList(raw: string): string[] {
  const trimmed = raw.trim();
  return trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim());
}

function listOf(spec: {
  name: string;
  describe: string;
  allowEmptyList: boolean;
  /** Returns why one item is invalid, or undefined. */
  itemProblem(item: string): string | undefined;
}): ValueFormat<string[]> {
  return define<string[]>({
    name: spec.name,
    type: 'list',
    describe: spec.describe,
    quotesBadParts: true,
    coerce: (raw) => splitList(raw),
    check(v): asserts v is string[] {
      if (!Array.isArray(v)) fail(`must be a comma-separated list of ${spec.describe}`);
      if (v.length === 0 && !spec.allowEmptyList) fail(`must list at least one ${spec.describe}`);
      const bad = v.map((item) => [item, item === '' ? 'empty entry' : spec.itemProblem(item)] as const)
        .filter(([, why]) => why !== undefined)
        .map(([item, why]) => `${JSON.stringify(item)} (${why})`);
      if (bad.length > 0) fail(`must be a comma-separated list of ${spec.describe}; bad: ${bad.join(', ')}`);
    },
  });
}

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?$/;

function portProblem(port: string): string | undefined {
  if (!/^\d+$/.test(port)) return 'port is not a number';
  const n = Number(port);
  return n >= 1 && n <= 65535 ? undefined : 'port must be in [1, 65535]';
}

/** Splits `host:port` or `[v6]:port`; undefined host/port when absent. */
function splitHostPort(item: string): { host: string; port: string | undefined; bracketed: boolean } {
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(item);
  if (v6) return { host: v6[1] ?? '', port: v6[2], bracketed: true };
  const colon = item.lastIndexOf(':');
  return colon < 0
    ? { host: item, port: undefined, bracketed: false }
    : { host: item.slice(0, colon), port: item.slice(colon + 1), bracketed: false };
}

function hostProblem(host: string, bracketed: boolean): string | undefined {
  if (bracketed) return IPV6.test(host) ? undefined : 'bad IPv6 address';
  if (host.includes(':')) return 'IPv6 addresses go in brackets, e.g. [::1]:9092';
  return HOSTNAME.test(host) ? undefined : 'bad host name';
}

export const hostPortList = listOf({
  name: 'pc:host-port-list',
  describe: 'host:port',
  allowEmptyList: false,
  itemProblem(item) {
    const { host, port, bracketed } = splitHostPort(item);
    if (port === undefined) return 'no port';
    if (host === '') return 'no host';
    return hostProblem(host, bracketed) ?? portProblem(port);
  },
});

export const listenerList = listOf({
  name: 'pc:listener-list',
  describe: 'http(s)://host:port',
  allowEmptyList: false,
  itemProblem(item) {
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(item);
    if (!m) return 'not a URL like http://127.0.0.1:8083';
    const scheme = (m[1] ?? '').toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') return 'scheme must be http or https';
    const { host, port, bracketed } = splitHostPort(m[2] ?? '');
    if (port === undefined) return 'no port';
    // An empty host means "all interfaces", as in Kafka Connect's listeners; port 0 means any free port.
    return (host === '' ? undefined : hostProblem(host, bracketed)) ?? (port === '0' ? undefined : portProblem(port));
  },
});

/** Java-style full-match regexes; compiled as JavaScript RegExp (syntax differences with Java apply). */
export const regexList = listOf({
  name: 'pc:regex-list',
  describe: 'regular expressions',
  allowEmptyList: true,
  itemProblem(item) {
    try {
      fullMatch(item);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  },
});

/** A regex that must match the whole string, like Java's `Matcher.matches()`. */
export function fullMatch(pattern: string): RegExp {
  // No 'u' flag: it rejects identity escapes such as `\_` that Java accepts.
  return new RegExp(`^(?:${pattern})$`);
}

const ALIAS = /^[A-Za-z0-9_-]+$/;

export const groupAliasList = define<string[]>({
  name: 'pc:group-alias-list',
  type: 'list',
  describe: 'group names ([A-Za-z0-9_-]+), without "default"',
  quotesBadParts: true,
  coerce: (raw) => splitList(raw),
  check(v): asserts v is string[] {
    if (!Array.isArray(v)) fail('must be a comma-separated list of group names');
    const bad = v.filter((a) => !ALIAS.test(a)).map((a) => JSON.stringify(a));
    if (bad.length > 0) fail(`group names may only hold letters, digits, "_" and "-"; bad: ${bad.join(', ')}`);
    if (v.includes('default')) fail('"default" is always defined and must not be listed');
    const dup = v.filter((a, i) => v.indexOf(a) !== i);
    if (dup.length > 0) fail(`duplicate group name(s): ${[...new Set(dup)].join(', ')}`);
  },
});

function pattern(name: string, re: RegExp, describe: string, message: string): ValueFormat<string> {
  return define<string>({
    name,
    type: 'string',
    describe,
    coerce: (raw) => raw.trim(),
    check(v): asserts v is string {
      if (typeof v !== 'string' || !re.test(v)) fail(message);
    },
  });
}

export const nonEmptyString = pattern('pc:non-empty-string', /\S/, 'non-empty string', 'must not be empty');
export const connectorName = pattern(
  'pc:connector-name', /^[A-Za-z0-9._-]+$/, '[A-Za-z0-9._-]+', 'may only hold letters, digits, ".", "_" and "-"',
);
export const className = pattern(
  'pc:class-name', /^[A-Za-z_$][\w$-]*(\.[A-Za-z_$][\w$-]*)*$/, 'class name or alias',
  'must be a class name such as org.apache.kafka.connect.json.JsonConverter',
);
export const topicName = define<string>({
  name: 'pc:topic-name',
  type: 'string',
  describe: 'Kafka topic name: [A-Za-z0-9._-]{1,249}, not "." or ".."',
  coerce: (raw) => raw.trim(),
  check(v): asserts v is string {
    if (typeof v !== 'string' || !/^[A-Za-z0-9._-]{1,249}$/.test(v) || v === '.' || v === '..') {
      fail('must be a Kafka topic name: 1 to 249 of letters, digits, ".", "_" and "-", not "." or ".."');
    }
  },
});
