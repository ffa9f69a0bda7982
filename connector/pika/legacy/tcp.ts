// Connecting with a timeout and an error that names the port and what it is for ("the master's heartbeat port
// 10.0.0.5:11221 (legacy spci/ping)"): the classic failures of a legacy setup are unreachable ports.
import { connect, type Socket } from 'node:net';
import { LegacyHandshakeError } from './handshake.ts';

export class LegacyConnectError extends LegacyHandshakeError {
  constructor(message: string, readonly errno: string | undefined) {
    super(message, 'PIKA_LEGACY_UNREACHABLE', true); // the master may be restarting: a task restart tries again
    this.name = 'LegacyConnectError';
  }
}

/** Resolves with a connected socket, or rejects with a LegacyConnectError naming `what`. */
export function connectTo(host: string, port: number, what: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new LegacyConnectError(`cannot connect to ${what} ${host}:${port}: no answer within ${timeoutMs} ms`, 'ETIMEDOUT'));
    }, timeoutMs);
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new LegacyConnectError(`cannot connect to ${what} ${host}:${port}: ${error.code ?? error.message}`, error.code));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
