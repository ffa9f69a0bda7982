import { ConnectError } from '../../../runtime/api/index.ts';

/**
 * Bytes from a Pika master (or a binlog item) that do not follow the protocol: bad frame length, malformed
 * protobuf, missing required field, malformed RESP or binlog item. Not retriable by itself; the caller decides
 * whether reconnecting makes sense.
 */
export class PikaProtocolError extends ConnectError {
  constructor(message: string, opts: { code?: string; cause?: unknown } = {}) {
    super(message, { code: opts.code ?? 'PIKA_PROTOCOL', cause: opts.cause });
    this.name = 'PikaProtocolError';
  }
}
