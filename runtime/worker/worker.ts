import type { KafkaAdmin, KafkaClient } from '../kafka/types.ts';
import { KafkaJsClient } from '../kafka/kafkajs-client.ts';
import { kafkaSecurity } from '../kafka/security.ts';
import type { PluginRegistry } from '../plugins.ts';
import type { TaskMetricsFacade } from '../api/task.ts';
import type { RuntimeLogger } from '../util/logger.ts';
import { ensureOffsetsTopic } from '../storage/offset-store.ts';
import type { ConnectorConfig, WorkerConfig } from '../config/index.ts';
import { ConnectorRunner, type ConnectorStatus, type TargetState } from './connector-runner.ts';

export interface WorkerOptions {
  client?: KafkaClient;
  /** Gives each task the facade behind SourceTaskContext.metrics. */
  connectorMetrics?: (connector: string, taskId: number) => TaskMetricsFacade;
}

/**
 * A standalone worker: one Kafka client, one offsets topic, any number of connectors, each isolated from the
 * others' failures.
 */
export class Worker {
  readonly client: KafkaClient;
  private readonly connectors = new Map<string, ConnectorRunner>();
  private adminPromise: Promise<KafkaAdmin> | undefined;

  private readonly connectorMetrics: WorkerOptions['connectorMetrics'];

  constructor(readonly config: WorkerConfig, readonly plugins: PluginRegistry, private readonly logger: RuntimeLogger, clientOrOptions?: KafkaClient | WorkerOptions) {
    const options: WorkerOptions = clientOrOptions && 'producer' in clientOrOptions ? { client: clientOrOptions } : (clientOrOptions ?? {});
    this.connectorMetrics = options.connectorMetrics;
    const client = options.client;
    this.client = client ?? new KafkaJsClient({ brokers: config.bootstrapServers, clientId: config.clientId, logger: logger.child({ component: 'kafka' }), security: kafkaSecurity(config.securityProps, config.file) });
  }

  /** Prepares the offsets topic (fails fast with a clear error if Kafka is unreachable) and starts the connectors. */
  async start(connectors: ConnectorConfig[]): Promise<void> {
    await ensureOffsetsTopic(await this.admin(), {
      name: this.config.offsetStorageTopic,
      partitions: this.config.offsetStoragePartitions,
      replicationFactor: this.config.offsetStorageReplicationFactor,
    });
    for (const config of connectors) this.addConnector(config);
  }

  /** `initialState` (default STARTED) lets a reconfigured connector keep its PAUSED or STOPPED state. */
  addConnector(config: ConnectorConfig, initialState: TargetState = 'STARTED'): ConnectorRunner {
    if (this.connectors.has(config.name)) throw new Error(`connector ${config.name} is already running`);
    const runner = new ConnectorRunner(config, this.config, {
      client: this.client, plugins: this.plugins, logger: this.logger, admin: () => this.admin(),
      ...(this.connectorMetrics ? { connectorMetrics: this.connectorMetrics } : {}),
    });
    this.connectors.set(config.name, runner);
    if (initialState === 'STOPPED') void runner.stopKeepingConfig();
    else {
      if (initialState === 'PAUSED') runner.pause();
      runner.start();
    }
    return runner;
  }

  connectorNames(): string[] {
    return [...this.connectors.keys()];
  }

  async removeConnector(name: string): Promise<void> {
    const runner = this.connectors.get(name);
    if (!runner) return;
    this.connectors.delete(name);
    await runner.stop();
  }

  connector(name: string): ConnectorRunner | undefined {
    return this.connectors.get(name);
  }

  status(): ConnectorStatus[] {
    return [...this.connectors.values()].map((c) => c.status());
  }

  /**
   * Stops every connector: each task commits its open transaction and stops. Bounded by
   * `task.shutdown.graceful.timeout.ms`; a task still busy then is left to be fenced by the next start.
   */
  async stop(): Promise<void> {
    const all = Promise.all([...this.connectors.values()].map((c) => c.stop()));
    const timeout = this.config.taskShutdownGracefulTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), timeout); }),
    ]);
    clearTimeout(timer);
    if (timedOut) this.logger.warn('tasks did not stop within task.shutdown.graceful.timeout.ms; their open transactions will be aborted at the next start', { timeout_ms: timeout });
    const admin = this.adminPromise;
    this.adminPromise = undefined;
    if (admin) await (await admin.catch(() => undefined))?.close().catch(() => {});
    await this.client.close();
  }

  /** The worker's shared admin client (created on first use). */
  admin(): Promise<KafkaAdmin> {
    this.adminPromise ??= this.client.admin().catch((error) => {
      this.adminPromise = undefined;
      throw error;
    });
    return this.adminPromise;
  }
}
