// A download throttle for the rsync2 client (snapshot.fetch.max.bytes.per.second): received bytes are handed on
// no faster than the rate, and the client asks for the next chunk only once it has one, so the master's reads slow
// down too (like Pika's own throttle-bytes-per-second).
import type { RsyncTransport, RsyncTransportFactory } from '../rsync/index.ts';

interface Held {
  chunk: Uint8Array;
  /** Date.now() at which the chunk may be handed on. */
  releaseAt: number;
}

export function throttledTransport(inner: RsyncTransportFactory, bytesPerSecond: number): RsyncTransportFactory {
  if (bytesPerSecond <= 0) return inner;
  return async () => {
    const t = await inner();
    let releaseAt = Date.now();
    let closed = false;
    let dataListener: ((chunk: Uint8Array) => void) | undefined;
    let closeListener: ((err?: Error) => void) | undefined;
    let pendingClose: { err?: Error } | undefined;
    // Chunks are released strictly in arrival order by one timer. (One timer per chunk reordered them: a timer's
    // start is the event loop's cached time, its delay came from Date.now(), so a chunk that arrived later in the
    // same loop turn — after a pause — could get an earlier expiry than the one before it, which broke the frame
    // stream: "rsync2 frame of 3560306182 bytes exceeds the limit".)
    const held: Held[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finishClose = (): void => {
      if (closed || !pendingClose || held.length > 0) return;
      closed = true;
      closeListener?.(pendingClose.err);
    };
    const release = (): void => {
      timer = undefined;
      while (held.length > 0 && !closed) {
        const wait = held[0]!.releaseAt - Date.now();
        if (wait > 0) {
          timer = setTimeout(release, wait);
          return;
        }
        dataListener?.(held.shift()!.chunk);
      }
      finishClose();
    };
    t.onData((chunk) => {
      const copy = Uint8Array.from(chunk);
      releaseAt = Math.max(releaseAt, Date.now()) + (copy.length * 1000) / bytesPerSecond;
      held.push({ chunk: copy, releaseAt });
      if (!timer) timer = setTimeout(release, Math.max(0, held[0]!.releaseAt - Date.now()));
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
        if (timer) clearTimeout(timer);
        timer = undefined;
        held.length = 0;
        t.close();
      },
    };
    return wrapped;
  };
}
