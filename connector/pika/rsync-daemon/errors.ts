import { ConnectError } from '../../../runtime/api/index.ts';

/**
 * Codes: PIKA_RSYNCD_MISSING (no `rsync` binary), PIKA_RSYNCD_BIND (the port is taken or the address is not ours),
 * PIKA_RSYNCD_START (rsync exited or never listened), PIKA_RSYNCD_CRASHING (keeps dying after restarts),
 * PIKA_RSYNCD_AUTH (the master's push was refused: wrong secret), PIKA_RSYNCD_CONFIG (bad options),
 * PIKA_RSYNCD_MODULE (the master pushed to another module name), PIKA_RSYNCD_PUSH_TIMEOUT (the push made no progress
 * for snapshot.push.timeout.ms). Every message names the port and what the daemon is for.
 */
const RETRIABLE = new Set(['PIKA_RSYNCD_START', 'PIKA_RSYNCD_PUSH_TIMEOUT']);

export class RsyncDaemonError extends ConnectError {
  constructor(message: string, code: string, cause?: unknown) {
    // A daemon that did not come up may do so at the next attempt, and a push that never came or stopped half-way
    // is asked for again by the restarted task; the rest need a fix.
    super(message, { code, stage: 'poll', retriable: RETRIABLE.has(code), cause });
    this.name = 'RsyncDaemonError';
  }
}
