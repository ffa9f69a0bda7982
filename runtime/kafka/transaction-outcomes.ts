/**
 * Decides which records of a partition read with read_uncommitted are committed, from the transaction markers in the
 * log itself: a transactional producer's records are held until its next control record (commit: kept, abort:
 * dropped); non-transactional records are kept at once. Records of a transaction still undecided at the end of the
 * read are left out, exactly as a read_committed consumer would not show them.
 *
 * Unlike a read_committed consumer this never waits behind another producer's open transaction (the last stable
 * offset): a transaction that another task keeps open, or one that stays undecided on the broker, does not hide
 * records committed after it began.
 */

const ABORT = 0;
const COMMIT = 1;

/** The marker type of a control record key (version int16, type int16), or undefined when it is not a marker. */
export function markerType(key: Buffer | null | undefined): 'commit' | 'abort' | undefined {
  if (!key || key.length < 4) return undefined;
  const type = key.readInt16BE(2);
  return type === COMMIT ? 'commit' : type === ABORT ? 'abort' : undefined;
}

export class TransactionOutcomes<T> {
  private readonly decided: Array<{ offset: bigint; record: T }> = [];
  private readonly open = new Map<string, Array<{ offset: bigint; record: T }>>();

  /** A data record at `offset` (offsets ascending). */
  record(offset: bigint, producerId: string, inTransaction: boolean, record: T): void {
    const kept = { offset, record };
    if (!inTransaction) {
      this.decided.push(kept);
      return;
    }
    let held = this.open.get(producerId);
    if (!held) this.open.set(producerId, (held = []));
    held.push(kept);
  }

  /** A control record: a commit or abort marker ends the producer's transaction in this partition. */
  control(producerId: string, key: Buffer | null): void {
    const type = markerType(key);
    if (type === undefined) return;
    const held = this.open.get(producerId);
    this.open.delete(producerId);
    if (held && type === 'commit') for (const e of held) this.decided.push(e);
  }

  /** Committed and non-transactional records, in log order. */
  committed(): T[] {
    return this.decided.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0)).map((e) => e.record);
  }
}
