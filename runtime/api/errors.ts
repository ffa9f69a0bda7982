/** Where in the pipeline an error happened, as Kafka Connect's Stage. */
export type Stage = 'config' | 'start' | 'poll' | 'convert' | 'produce' | 'commit' | 'offsets' | 'stop';

/**
 * The one error type shared by the runtime and connectors. `retriable` errors may be retried by the runtime
 * (with back-off, bounded by `errors.retry.timeout`); others fail the task.
 */
export class ConnectError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly stage: Stage | undefined;

  constructor(message: string, opts: { code?: string; retriable?: boolean; stage?: Stage; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ConnectError';
    this.code = opts.code ?? 'CONNECT_ERROR';
    this.retriable = opts.retriable ?? false;
    this.stage = opts.stage;
  }
}

export class RetriableError extends ConnectError {
  constructor(message: string, opts: { code?: string; stage?: Stage; cause?: unknown } = {}) {
    super(message, { ...opts, retriable: true });
    this.name = 'RetriableError';
  }
}

export class ConfigError extends ConnectError {
  readonly problems: string[];
  constructor(problems: string[], header = 'Invalid configuration') {
    super(`${header}:\n  - ${problems.join('\n  - ')}`, { code: 'CONFIG', stage: 'config' });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
