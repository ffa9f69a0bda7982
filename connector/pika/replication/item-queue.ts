// The bounded queue between a session's reader (socket callbacks push received items) and the task's `take()`:
// a waiting take wakes on arrival, stop or failure; reading pauses when the queue reaches its bound and resumes once
// takes have drained it below half. Used by the PB session and the legacy session alike.
import { systemClock, type SessionClock } from './clock.ts';

export class ItemQueue<T> {
  private items: T[] = [];
  private paused = false;
  private wakeWaiter: (() => void) | undefined;

  constructor(private readonly maxItems: number, private readonly clock: Pick<SessionClock, 'setTimeout' | 'clearTimeout'> = systemClock) {}

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** After pushes: wakes a waiting take; true when the queue has just reached its bound (the caller pauses reading). */
  arrived(): boolean {
    const pause = !this.paused && this.items.length >= this.maxItems;
    if (pause) this.paused = true;
    this.wake();
    return pause;
  }

  /** Ends a waiting take at once (the session stops or failed). */
  wake(): void {
    this.wakeWaiter?.();
  }

  /** The reader's connection ended: the next one starts unpaused. */
  readerEnded(): void {
    this.paused = false;
  }

  /** Resolves when an item is queued, `wake()` is called, `signal` aborts or `waitMs` passed (at once if not empty). */
  async waitForItems(waitMs: number, signal?: AbortSignal): Promise<void> {
    if (this.items.length > 0 || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        if (this.wakeWaiter === done) this.wakeWaiter = undefined;
        resolve();
      };
      const timer = this.clock.setTimeout(done, waitMs);
      signal?.addEventListener('abort', done, { once: true });
      this.wakeWaiter = done;
    });
  }

  /** Up to `max` queued items, oldest first; `resume` true when paused reading may go on (the caller resumes it). */
  take(max: number): { items: T[]; resume: boolean } {
    const items = this.items.length <= max ? this.items : this.items.slice(0, max);
    this.items = this.items.length <= max ? [] : this.items.slice(max);
    const resume = this.paused && this.items.length < this.maxItems / 2;
    if (resume) this.paused = false;
    return { items, resume };
  }
}
