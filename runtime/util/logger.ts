import { pino, destination, stdTimeFunctions, type Logger as PinoLogger } from 'pino';
import type { Logger } from '../api/task.ts';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** The root logger: JSON lines on stderr (pino). `PIKA_CONNECT_LOG_LEVEL` sets the level at start. */
export function createRootLogger(level: LogLevel = (process.env.PIKA_CONNECT_LOG_LEVEL as LogLevel) ?? 'info'): RuntimeLogger {
  return new RuntimeLogger(pino({ level, base: { pid: process.pid }, formatters: { level: (label) => ({ level: label }) }, timestamp: stdTimeFunctions.isoTime }, destination(2)));
}

export class RuntimeLogger implements Logger {
  constructor(readonly pino: PinoLogger) {}

  child(bindings: Record<string, unknown>): RuntimeLogger {
    return new RuntimeLogger(this.pino.child(bindings));
  }

  setLevel(level: LogLevel): void {
    this.pino.level = level;
  }

  debug(msg: string, fields?: Record<string, unknown>): void { this.pino.debug(fields ?? {}, msg); }
  info(msg: string, fields?: Record<string, unknown>): void { this.pino.info(fields ?? {}, msg); }
  warn(msg: string, fields?: Record<string, unknown>): void { this.pino.warn(fields ?? {}, msg); }
  error(msg: string, fields?: Record<string, unknown>): void { this.pino.error(fields ?? {}, msg); }
}
