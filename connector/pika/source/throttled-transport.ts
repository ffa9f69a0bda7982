// A download throttle for the rsync2 client (snapshot.fetch.max.bytes.per.second): received bytes are handed on
// no faster than the rate, and the client asks for the next chunk only once it has one, so the master's reads slow
// down too (like Pika's own throttle-bytes-per-second).
import type { RsyncTransport, RsyncTransportFactory } from '../rsync/index.ts';

export function throttledTransport(inner: RsyncTransportFactory, bytesPerSecond: number): RsyncTransportFactory {
  if (bytesPerSecond <= 0) return inner;
  return async () => {
    const t = await inner();
    let releaseAt = Date.now();
    let closed = false;
    let dataListener: ((chunk: Uint8Array) => void) | undefined;
    let closeListener: ((err?: Error) => void) | undefined;
    let pendingClose: { err?: Error } | undefined;
    let inFlight = 0;
    const timers = new Set<NodeJS.Timeout>();
    const finishClose = (): void => {
      if (closed || !pendingClose || inFlight > 0) return;
      closed = true;
      closeListener?.(pendingClose.err);
    };
    t.onData((chunk) => {
      const copy = Uint8Array.from(chunk);
      releaseAt = Math.max(releaseAt, Date.now()) + (copy.length * 1000) / bytesPerSecond;
      inFlight++;
      const timer = setTimeout(() => {
        timers.delete(timer);
        inFlight--;
        if (!closed) dataListener?.(copy);
        finishClose();
      }, Math.max(0, releaseAt - Date.now()));
      timers.add(timer);
    });
    t.onClose((err) => {
      pendingClose = { err };
      finishClose();
    });
    const wrapped: RsyncTransport = {
      write: (bytes) => t.write(bytes),
      onData: (listener) => { dataListener = listener; },
      onClose: (listener) => { closeListener = listener; },
      close: () => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        inFlight = 0;
        t.close();
      },
    };
    return wrapped;
  };
}
