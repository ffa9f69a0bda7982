import { PluginRegistry } from './plugins.ts';
import { syntheticConnectorPlugin } from '../connector/synthetic/synthetic-connector.ts';
import { pikaSourceConnectorPlugin } from '../connector/pika/source/pika-source-connector.ts';

/** The registry with every plugin shipped in this package. */
export function bundledPlugins(): PluginRegistry {
  return new PluginRegistry().addConnector(syntheticConnectorPlugin).addConnector(pikaSourceConnectorPlugin);
}
