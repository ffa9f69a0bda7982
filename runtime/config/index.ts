// Configuration loading and validation: worker and connector `.properties` files, environment overrides, docs.
export { loadWorkerConfig, parseWorkerProps, checkWorkerProps, type WorkerConfig, type WorkerCheck } from './worker-config.ts';
export {
  loadConnectorConfig, parseConnectorProps, checkConnectorProps, pluginLookup,
  type ConnectorConfig, type ConnectorCheck, type ConnectorLoadOptions, type PluginLookup,
} from './connector-config.ts';
export { topicGroupFor, type TopicCreationGroup } from './topic-creation.ts';
export { configDocsMarkdown } from './docs.ts';
export { workerSchema, DEFAULT_CONVERTER } from './worker-schema.ts';
export { connectorSchema } from './connector-schema.ts';
export type { ConfigSchema, ConfigKeyDef, PrefixDef } from './schema.ts';
export { envNameForKey, connectorEnvPrefix, WORKER_ENV_PREFIX } from './env.ts';
export { parsePropertiesText, readPropertiesFile } from './properties-file.ts';
export { formatProblem, type Problem, type Origin } from './problems.ts';
