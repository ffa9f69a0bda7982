// The byte pipe under the rsync2 client. Production uses TCP to the master's port+10001; tests plug in a fake that
// answers from recorded server streams.
import { connect, type Socket } from 'node:net';
import { docRef } from '../../../runtime/api/index.ts';

/**
 * A connected, bidirectional byte stream. Contracts: `onData` chunks arrive in order and may split or merge
 * frames arbitrarily; `onClose` fires once (with the error if there was one) and nothing arrives after it;
 * `close` may be called more than once.
 */
export interface RsyncTransport {
  write(bytes: Uint8Array): void;
  onData(listener: (chunk: Uint8Array) => void): void;
  onClose(listener: (err?: Error) => void): void;
  close(): void;
}

/** Opens a new connection; called once per download attempt (and again after a connection is lost). */
export type RsyncTransportFactory = () => Promise<RsyncTransport>;

/** TCP to `host:port` (Pika's rsync2 port is the master port + 10001; it has no authentication). */
export function tcpTransportFactory(host: string, port: number, connectTimeoutMs = 10_000): RsyncTransportFactory {
  return () =>
    new Promise<RsyncTransport>((resolve, reject) => {
      const socket: Socket = connect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`rsync2 connect to ${host}:${port} timed out after ${connectTimeoutMs} ms ${docRef('ports')}`));
      }, connectTimeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`rsync2 connect to ${host}:${port} failed: ${err.message} ${docRef('ports')}`, { cause: err }));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socketTransport(socket));
      });
    });
}

function socketTransport(socket: Socket): RsyncTransport {
  let failure: Error | undefined;
  socket.on('error', (err) => {
    failure = err;
  });
  return {
    write: (bytes) => void socket.write(bytes),
    onData: (listener) => void socket.on('data', listener),
    onClose: (listener) => void socket.once('close', () => listener(failure)),
    close: () => void socket.destroy(),
  };
}
