// SourceTaskContext.metrics inside the task thread: updates are coalesced (a gauge keeps its last value, a counter
// sums its increments) and posted in batches to the Kafka thread, which owns the prom-client registry.
import type { TaskMetricsFacade } from '../../api/task.ts';
import type { MetricUpdate } from './protocol.ts';

function seriesKey(kind: string, name: string, labels: Record<string, string> | undefined): string {
  return labels ? `${kind}\0${name}\0${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}` : `${kind}\0${name}`;
}

export class MetricsForwarder implements TaskMetricsFacade {
  private pending = new Map<string, MetricUpdate>();

  gauge(name: string, help: string, labelNames: readonly string[] = []): { set(value: number, labels?: Record<string, string>): void } {
    return {
      set: (value, labels) => {
        this.pending.set(seriesKey('gauge', name, labels), { kind: 'gauge', name, help, labelNames: [...labelNames], ...(labels ? { labels: { ...labels } } : {}), value });
      },
    };
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): { inc(by?: number, labels?: Record<string, string>): void } {
    return {
      inc: (by = 1, labels) => {
        const key = seriesKey('counter', name, labels);
        const known = this.pending.get(key);
        if (known) known.value += by;
        else this.pending.set(key, { kind: 'counter', name, help, labelNames: [...labelNames], ...(labels ? { labels: { ...labels } } : {}), value: by });
      },
    };
  }

  /** The coalesced updates since the last call (empty when none). */
  take(): MetricUpdate[] {
    if (this.pending.size === 0) return [];
    const updates = [...this.pending.values()];
    this.pending = new Map();
    return updates;
  }
}

/** Replays forwarded updates on the Kafka thread's facade. */
export function applyMetricUpdates(facade: TaskMetricsFacade, updates: readonly MetricUpdate[]): void {
  for (const u of updates) {
    if (u.kind === 'gauge') facade.gauge(u.name, u.help, u.labelNames).set(u.value, u.labels);
    else facade.counter(u.name, u.help, u.labelNames).inc(u.value, u.labels);
  }
}
