/**
 * Events per second over a sliding window, as Kafka's `Rate` stat behind the `*-rate` metrics: counts land in
 * one-second buckets; the rate is the sum of the buckets inside the window divided by the window (or by the time
 * since the first event when that is shorter, so a fresh task does not show a diluted rate).
 */
export class WindowedRate {
  private readonly buckets: Float64Array;
  private readonly stamps: Float64Array;
  private firstAt: number | undefined;

  constructor(private readonly windowSeconds = 30) {
    this.buckets = new Float64Array(windowSeconds);
    this.stamps = new Float64Array(windowSeconds).fill(-1);
  }

  record(count: number, nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    const i = second % this.windowSeconds;
    if (this.stamps[i] !== second) {
      this.stamps[i] = second;
      this.buckets[i] = 0;
    }
    this.buckets[i]! += count;
    this.firstAt ??= nowMs;
  }

  perSecond(nowMs: number): number {
    if (this.firstAt === undefined) return 0;
    const second = Math.floor(nowMs / 1000);
    let sum = 0;
    for (let i = 0; i < this.windowSeconds; i++) {
      const stamp = this.stamps[i]!;
      if (stamp >= 0 && second - stamp < this.windowSeconds) sum += this.buckets[i]!;
    }
    const elapsed = Math.min(this.windowSeconds, Math.max(1, (nowMs - this.firstAt) / 1000));
    return sum / elapsed;
  }
}
