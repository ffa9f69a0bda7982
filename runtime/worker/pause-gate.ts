/**
 * Pause/resume of one task, as Kafka Connect's target state PAUSED. The task runner checks `paused` between polls;
 * when set it commits its open transaction and parks until resumed (or stopped). `parked` is true only while the
 * runner is parked, so a status of PAUSED means no transaction is open and no poll is running.
 */
export class PauseGate {
  private pausedFlag = false;
  private parkedFlag = false;
  private wake: (() => void) | undefined;

  get paused(): boolean {
    return this.pausedFlag;
  }

  get parked(): boolean {
    return this.parkedFlag;
  }

  pause(): void {
    this.pausedFlag = true;
  }

  resume(): void {
    this.pausedFlag = false;
    this.wake?.();
  }

  /** Resolves when resumed or when `signal` aborts. */
  async park(signal: AbortSignal): Promise<void> {
    if (!this.pausedFlag || signal.aborted) return;
    this.parkedFlag = true;
    try {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          this.wake = undefined;
          resolve();
        };
        this.wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    } finally {
      this.parkedFlag = false;
    }
  }
}
