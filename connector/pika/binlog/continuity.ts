// Gap detection for one DB's binlog stream.
//
// Every pushed item carries two positions (pika-protocol.md §6.2):
//   - its header's {filenum, offset}: where the producer stood before writing it (the item's start);
//   - the PB BinlogSync.binlog_offset: the reader's position after the item (its end; the resume point).
// In an unbroken stream, item N's start equals item N-1's end. Observed in the 4.0.1 capture even across a
// rotation: the last item of write2file0 ends at 0:1098428 and the next item (stored at write2file1:0) still names
// 0:1098428 in its header, with its end in file 1. So the "first item after rotation names the old file" rule is
// covered by the plain equality. One more shape is accepted because Pika's reader could report the rotation
// before the item: previous end `(f+1):0` followed by an item whose header names file `f`.
import { PikaProtocolError } from '../protocol/errors.ts';
import { comparePositions, formatPosition, type BinlogPosition } from './item.ts';

export class BinlogGapError extends PikaProtocolError {
  readonly expected: BinlogPosition;
  readonly actual: BinlogPosition;
  constructor(message: string, expected: BinlogPosition, actual: BinlogPosition) {
    super(message, { code: 'PIKA_BINLOG_GAP' });
    this.name = 'BinlogGapError';
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * Tracks one DB's stream. Create it with the position the stream resumes from (the offset sent in TrySync /
 * the first BinlogSync), or without one to accept whatever the first item says.
 */
export class BinlogContinuity {
  private lastEnd: BinlogPosition | undefined;
  private readonly db: string;

  constructor(db: string, resumeFrom?: BinlogPosition) {
    this.db = db;
    this.lastEnd = resumeFrom ? { ...resumeFrom } : undefined;
  }

  /** End of the last accepted item (= the next expected start), if known. */
  get position(): BinlogPosition | undefined {
    return this.lastEnd ? { ...this.lastEnd } : undefined;
  }

  /**
   * Checks one item (keepalives, i.e. empty `binlog`, must not be passed) and advances. Throws `BinlogGapError`
   * naming both positions when the item does not continue the stream, or when its end does not lie after its start.
   */
  accept(start: BinlogPosition, end: BinlogPosition): void {
    const ctx = (): string => `${this.db}: binlog item ${formatPosition(start)} -> ${formatPosition(end)}`;
    const endFollowsStart =
      comparePositions(end, start) > 0 && (end.filenum === start.filenum || end.filenum === start.filenum + 1);
    if (!endFollowsStart) {
      throw new BinlogGapError(`${ctx()}: end position does not follow the start position`, start, end);
    }
    const expected = this.lastEnd;
    if (expected && !continues(expected, start)) {
      throw new BinlogGapError(
        `${ctx()}: binlog discontinuity, expected the item to start at ${formatPosition(expected)} (end of the previous item) but it starts at ${formatPosition(start)}`,
        expected,
        start,
      );
    }
    this.lastEnd = { filenum: end.filenum, offset: end.offset };
  }
}

function continues(previousEnd: BinlogPosition, start: BinlogPosition): boolean {
  if (comparePositions(previousEnd, start) === 0) return true;
  return previousEnd.offset === 0 && previousEnd.filenum === start.filenum + 1;
}
