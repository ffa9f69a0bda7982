import { ConnectError } from '../../../runtime/api/errors.ts';

/**
 * A RocksDB file (SST, MANIFEST, WAL, CURRENT) is damaged, truncated or uses a feature this reader does not
 * support. `file` names the file; `offset` the byte position of the bad block or record when known.
 */
export class RocksDbFormatError extends ConnectError {
  readonly file: string;
  readonly offset: number | undefined;

  constructor(file: string, problem: string, offset?: number, cause?: unknown) {
    const where = offset === undefined ? file : `${file} at offset ${offset}`;
    super(`RocksDB ${where}: ${problem}`, { code: 'ROCKSDB_FORMAT', stage: 'poll', cause });
    this.name = 'RocksDbFormatError';
    this.file = file;
    this.offset = offset;
  }
}
