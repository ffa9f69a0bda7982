import { ConnectError } from '../../../runtime/api/index.ts';

/**
 * Codes: PIKA_RSYNCD_MISSING (no `rsync` binary), PIKA_RSYNCD_BIND (the port is taken or the address is not ours),
 * PIKA_RSYNCD_START (rsync exited or never listened), PIKA_RSYNCD_CRASHING (keeps dying after restarts),
 * PIKA_RSYNCD_AUTH (the master's push was refused: wrong secret), PIKA_RSYNCD_CONFIG (bad options).
 * Every message names the port and what the daemon is for.
 */
export class RsyncDaemonError extends ConnectError {
  constructor(message: string, code: string, cause?: unknown) {
    // Only a daemon that did not come up (PIKA_RSYNCD_START) may do so at the next attempt; the rest need a fix.
    super(message, { code, stage: 'poll', retriable: code === 'PIKA_RSYNCD_START', cause });
    this.name = 'RsyncDaemonError';
  }
}
