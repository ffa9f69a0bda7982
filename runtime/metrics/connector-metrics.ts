import { Counter, Gauge, type Registry } from 'prom-client';
import { ConnectError } from '../api/errors.ts';
import type { TaskMetricsFacade } from '../api/task.ts';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const RESERVED_LABELS = new Set(['connector', 'task']);

interface Declared {
  type: 'gauge' | 'counter';
  help: string;
  labelNames: string[];
  metric: Gauge | Counter;
}

/**
 * Metrics declared by connectors through SourceTaskContext.metrics. One Prometheus metric per name, shared by every
 * task that declares it with the same type, help and labels; each series carries `connector` and `task`.
 */
export class ConnectorMetricsRegistry {
  private readonly declared = new Map<string, Declared>();
  /** Series written per connector, so that deleting a connector removes them. */
  private readonly series = new Map<string, Map<string, { metric: Gauge | Counter; labels: Record<string, string> }>>();

  constructor(private readonly registry: Registry) {}

  facade(connector: string, taskId: number): TaskMetricsFacade {
    const base = { connector, task: String(taskId) };
    const labelsOf = (extra: readonly string[], given: Record<string, string> | undefined, name: string): Record<string, string> => {
      const labels: Record<string, string> = { ...base };
      for (const key of extra) {
        const value = given?.[key];
        if (value === undefined) throw new ConnectError(`metric ${name}: label ${key} has no value`, { code: 'METRIC' });
        labels[key] = value;
      }
      for (const key of Object.keys(given ?? {})) {
        if (!extra.includes(key)) throw new ConnectError(`metric ${name}: label ${key} was not declared (declared: ${extra.join(', ') || 'none'})`, { code: 'METRIC' });
      }
      return labels;
    };
    return {
      gauge: (name, help, labelNames = []) => {
        const metric = this.declare('gauge', name, help, labelNames) as Gauge;
        return {
          set: (value, labels) => {
            const all = labelsOf(labelNames, labels, name);
            metric.set(all, value);
            this.remember(connector, name, metric, all);
          },
        };
      },
      counter: (name, help, labelNames = []) => {
        const metric = this.declare('counter', name, help, labelNames) as Counter;
        return {
          inc: (by = 1, labels) => {
            const all = labelsOf(labelNames, labels, name);
            metric.inc(all, by);
            this.remember(connector, name, metric, all);
          },
        };
      },
    };
  }

  forget(connector: string): void {
    for (const { metric, labels } of this.series.get(connector)?.values() ?? []) metric.remove(labels);
    this.series.delete(connector);
  }

  private declare(type: Declared['type'], name: string, help: string, labelNames: readonly string[]): Gauge | Counter {
    if (!NAME.test(name)) throw new ConnectError(`metric name "${name}" is not a valid Prometheus name ([a-zA-Z_:][a-zA-Z0-9_:]*)`, { code: 'METRIC' });
    for (const l of labelNames) {
      if (!LABEL.test(l) || RESERVED_LABELS.has(l)) throw new ConnectError(`metric ${name}: label name "${l}" is invalid or reserved (connector and task are added by the runtime)`, { code: 'METRIC' });
    }
    const existing = this.declared.get(name);
    if (existing) {
      if (existing.type !== type || existing.help !== help || existing.labelNames.join(',') !== labelNames.join(',')) {
        throw new ConnectError(`metric ${name} is already declared as a ${existing.type} with labels [${existing.labelNames.join(', ')}]`, { code: 'METRIC' });
      }
      return existing.metric;
    }
    if (this.registry.getSingleMetric(name)) throw new ConnectError(`metric name ${name} is used by the runtime`, { code: 'METRIC' });
    const config = { name, help, labelNames: ['connector', 'task', ...labelNames], registers: [this.registry] };
    const metric = type === 'gauge' ? new Gauge(config) : new Counter(config);
    this.declared.set(name, { type, help, labelNames: [...labelNames], metric });
    return metric;
  }

  private remember(connector: string, name: string, metric: Gauge | Counter, labels: Record<string, string>): void {
    let map = this.series.get(connector);
    if (!map) this.series.set(connector, (map = new Map()));
    const key = `${name}\u0000${JSON.stringify(labels)}`;
    if (!map.has(key)) map.set(key, { metric, labels });
  }
}
