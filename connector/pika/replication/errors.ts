// Outcomes of a replication session that stop it (the task decides what they mean for the user).
import { ConnectError, docRef } from '../../../runtime/api/index.ts';
import { formatPosition, type BinlogPosition } from '../binlog/item.ts';

/**
 * Why incremental replication cannot continue from the requested position of one DB (pika-protocol.md §5.2, §5.1):
 * - `purged`: TrySync kSyncPointBePurged — the binlog file holding the position is gone;
 * - `larger`: TrySync kSyncPointLarger — the position lies beyond the master's binlog (master replaced/rolled back);
 * - `not-boundary`: TrySync kError — the position is not an item boundary (or the master could not read its offset);
 * - `replication-id-changed`: MetaSync names another replication id than the one the position belongs to;
 * - `discontinuity`: a pushed item does not start where the previous one ended.
 */
export type GapKind = 'purged' | 'larger' | 'not-boundary' | 'replication-id-changed' | 'discontinuity';

export class ReplicationGapError extends ConnectError {
  readonly kind: GapKind;
  readonly db: string;
  readonly requested: BinlogPosition | undefined;
  readonly master: BinlogPosition | undefined;

  constructor(kind: GapKind, db: string, detail: string, positions: { requested?: BinlogPosition; master?: BinlogPosition } = {}) {
    const where = positions.requested ? ` at ${formatPosition(positions.requested)}` : '';
    const master = positions.master ? ` (master is at ${formatPosition(positions.master)})` : '';
    const ref = kind === 'purged' || kind === 'larger' || kind === 'not-boundary' ? ` ${docRef('trySync')}` : '';
    super(`${db}: cannot continue incremental replication${where}${master}: ${detail}${ref}`, { code: `PIKA_GAP_${kind.toUpperCase().replace(/-/g, '_')}` });
    this.name = 'ReplicationGapError';
    this.kind = kind;
    this.db = db;
    this.requested = positions.requested;
    this.master = positions.master;
  }
}

/** The master refused the session for a reason retrying cannot fix (bad password, unknown DB…). */
export class ReplicationRefusedError extends ConnectError {
  constructor(message: string, code = 'PIKA_REPL_REFUSED') {
    super(message, { code });
    this.name = 'ReplicationRefusedError';
  }
}
