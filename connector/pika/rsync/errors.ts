import { ConnectError, RetriableError, docRef } from '../../../runtime/api/index.ts';

/**
 * The master replaced the dump being downloaded (a chunk or the final meta names another snapshot_uuid, or the
 * downloaded `info` does not hash to the uuid). The client discards the partial download and starts over.
 */
export class NewerDumpError extends RetriableError {
  readonly expectedUuid: string;
  readonly seenUuid: string;
  constructor(db: string, expectedUuid: string, seenUuid: string, where: string) {
    super(`${db}: rsync2 ${where} names dump ${seenUuid || '""'} instead of ${expectedUuid}; a newer dump replaced it`, {
      code: 'PIKA_RSYNC_NEWER_DUMP',
      stage: 'poll',
    });
    this.name = 'NewerDumpError';
    this.expectedUuid = expectedUuid;
    this.seenUuid = seenUuid;
  }
}

/** No reply to an rsync2 request within the timeout (3.5.0–3.5.2 never answer a meta request during a bgsave). */
export class RsyncTimeoutError extends RetriableError {
  constructor(what: string, timeoutMs: number) {
    super(`rsync2 ${what}: no reply within ${timeoutMs} ms ${docRef('rsyncDump')}`, { code: 'PIKA_RSYNC_TIMEOUT', stage: 'poll' });
    this.name = 'RsyncTimeoutError';
  }
}

/** The master said kErr, sent an inconsistent reply, or listed a file name we refuse to write. */
export class RsyncError extends ConnectError {
  constructor(message: string, opts: { code?: string; retriable?: boolean; cause?: unknown } = {}) {
    super(message, { code: opts.code ?? 'PIKA_RSYNC', retriable: opts.retriable ?? false, stage: 'poll', cause: opts.cause });
    this.name = 'RsyncError';
  }
}
