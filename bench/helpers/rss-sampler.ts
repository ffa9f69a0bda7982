// Peak resident set size of this process: `process.memoryUsage().rss` sampled on a timer, plus the kernel's
// `process.resourceUsage().maxRSS` (high-water mark of the whole process life, KiB).

export interface RssSampler {
  /** Highest sampled RSS in bytes so far (samples once more first). */
  peak(): number;
  /** The kernel's max RSS of this process in bytes. */
  maxRss(): number;
  stop(): void;
  /** "peak RSS sampled X MiB, maxRSS Y MiB". */
  describe(): string;
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;

export function sampleRss(everyMs = 100): RssSampler {
  let peak = 0;
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  const s: RssSampler = {
    peak: () => (sample(), peak),
    maxRss: () => process.resourceUsage().maxRSS * 1024,
    stop: () => clearInterval(timer),
    describe: () => `peak RSS sampled every ${everyMs} ms ${mib(s.peak())}, maxRSS ${mib(s.maxRss())}`,
  };
  return s;
}
