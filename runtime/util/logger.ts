import { pino, destination, stdTimeFunctions, type Logger as PinoLogger } from 'pino';
import type { Logger } from '../api/task.ts';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
/** Levels settable at run time (`PUT /admin/loggers/{name}`), Kafka Connect's names in lower case. */
export const LOGGER_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'off'] as const;
export type LoggerLevel = (typeof LOGGER_LEVELS)[number];
const RANK: Record<LoggerLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, off: 100 };

/** The root logger: JSON lines on stderr (pino). `PIKA_CONNECT_LOG_LEVEL` sets the level at start. */
export function createRootLogger(level: LogLevel = (process.env.PIKA_CONNECT_LOG_LEVEL as LogLevel) ?? 'info'): RuntimeLogger {
  // pino itself logs everything; RuntimeLogger filters by the (run-time changeable) level of its name.
  const root = pino({ level: 'trace', base: { pid: process.pid }, formatters: { level: (label) => ({ level: label }) }, timestamp: stdTimeFunctions.isoTime }, destination(2));
  return new RuntimeLogger(root, new LoggerLevels(level));
}

/**
 * Named loggers and their levels, as Kafka Connect's `/admin/loggers`. Names are dotted (`kafka`,
 * `connector.<name>`, `connector.<name>.task.<id>`); a logger without its own level takes its closest ancestor's,
 * and `root` is the ancestor of all.
 */
export class LoggerLevels {
  private readonly levels = new Map<string, { level: LoggerLevel; lastModified?: number }>();
  private readonly known = new Set<string>(['root']);
  version = 0;
  /** The last warnings and errors that were logged (newest last), for support bundles. */
  readonly recentProblems: RecentProblem[] = [];

  constructor(rootLevel: LoggerLevel) {
    this.levels.set('root', { level: rootLevel in RANK ? rootLevel : 'info' });
  }

  register(name: string): void {
    this.known.add(name);
  }

  effective(name: string): LoggerLevel {
    for (let n = name; ; n = n.slice(0, n.lastIndexOf('.'))) {
      const own = this.levels.get(n);
      if (own) return own.level;
      if (!n.includes('.')) return this.levels.get('root')!.level;
    }
  }

  /** Sets the level of `name` and of every known descendant; returns the names changed (sorted). */
  set(name: string, level: LoggerLevel, now = Date.now()): string[] {
    const isUnder = (n: string) => name === 'root' || n === name || n.startsWith(`${name}.`);
    const changed = [...new Set([...this.known, ...this.levels.keys(), name])].filter(isUnder).sort();
    for (const n of changed) this.levels.set(n, { level, lastModified: now });
    this.known.add(name);
    this.version++;
    return changed;
  }

  /** Every known logger with its effective level and, when set at run time, the time it was. */
  list(): Record<string, { level: LoggerLevel; last_modified?: number }> {
    const out: Record<string, { level: LoggerLevel; last_modified?: number }> = {};
    for (const n of [...new Set([...this.known, ...this.levels.keys()])].sort()) {
      const own = this.levels.get(n);
      out[n] = { level: this.effective(n), ...(own?.lastModified !== undefined ? { last_modified: own.lastModified } : {}) };
    }
    return out;
  }
}

export interface RecentProblem {
  time: string;
  level: 'warn' | 'error';
  logger: string;
  msg: string;
  fields?: Record<string, unknown>;
}

const RECENT_PROBLEMS = 100;

export class RuntimeLogger implements Logger {
  private cachedVersion = -1;
  private threshold = 0;

  constructor(readonly pino: PinoLogger, readonly levels: LoggerLevels = new LoggerLevels('info'), readonly name = 'root') {
    levels.register(name);
  }

  child(bindings: Record<string, unknown>): RuntimeLogger {
    return new RuntimeLogger(this.pino.child(bindings), this.levels, childName(this.name, bindings));
  }

  setLevel(level: LogLevel): void {
    this.levels.set(this.name, level);
  }

  debug(msg: string, fields?: Record<string, unknown>): void { if (this.enabled('debug')) this.pino.debug(fields ?? {}, msg); }
  info(msg: string, fields?: Record<string, unknown>): void { if (this.enabled('info')) this.pino.info(fields ?? {}, msg); }
  warn(msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled('warn')) return;
    this.pino.warn(fields ?? {}, msg);
    this.remember('warn', msg, fields);
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled('error')) return;
    this.pino.error(fields ?? {}, msg);
    this.remember('error', msg, fields);
  }

  private remember(level: RecentProblem['level'], msg: string, fields: Record<string, unknown> | undefined): void {
    const recent = this.levels.recentProblems;
    recent.push({ time: new Date().toISOString(), level, logger: this.name, msg, ...(fields ? { fields } : {}) });
    if (recent.length > RECENT_PROBLEMS) recent.splice(0, recent.length - RECENT_PROBLEMS);
  }

  enabled(level: LoggerLevel): boolean {
    if (this.cachedVersion !== this.levels.version) {
      this.threshold = RANK[this.levels.effective(this.name)];
      this.cachedVersion = this.levels.version;
    }
    return RANK[level] >= this.threshold;
  }
}

/** `component: kafka` → `kafka`; `connector: x` → `connector.x`; `task: 0` → `<parent>.task.0`. */
function childName(parent: string, bindings: Record<string, unknown>): string {
  const parts = parent === 'root' ? [] : [parent];
  if (bindings.component !== undefined) parts.push(String(bindings.component));
  if (bindings.connector !== undefined) parts.push(`connector.${String(bindings.connector)}`);
  if (bindings.task !== undefined) parts.push(`task.${String(bindings.task)}`);
  return parts.length ? parts.join('.') : parent;
}
