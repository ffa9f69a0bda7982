import { ConnectError } from '../../../runtime/api/errors.ts';

/** A dump record does not match Pika's storage layout (names the RocksDB directory and the raw key). */
export class DumpFormatError extends ConnectError {
  constructor(where: string, problem: string, rawKey?: Uint8Array, cause?: unknown) {
    const key = rawKey ? ` (raw key ${Buffer.from(rawKey).toString('hex')})` : '';
    super(`Pika dump ${where}${key}: ${problem}`, { code: 'PIKA_DUMP_FORMAT', stage: 'poll', cause });
    this.name = 'DumpFormatError';
  }
}
