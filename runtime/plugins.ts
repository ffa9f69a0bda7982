import type { ConnectorPlugin } from './api/connector.ts';
import type { ConverterPlugin } from './api/converter.ts';
import { ConfigError } from './api/errors.ts';
import { jsonConverterPlugin } from './converters/json.ts';
import { byteArrayConverterPlugin, stringConverterPlugin } from './converters/string.ts';
import { avroConverterPlugin } from './converters/avro/index.ts';

/**
 * Connector and converter plugins known to the worker, found by any of their names (Kafka Connect class names and
 * short aliases). Connectors register themselves through `bundled-plugins.ts`.
 */
export class PluginRegistry {
  private readonly connectors = new Map<string, ConnectorPlugin>();
  private readonly converters = new Map<string, ConverterPlugin>();

  constructor() {
    for (const plugin of [jsonConverterPlugin, stringConverterPlugin, byteArrayConverterPlugin, avroConverterPlugin]) this.addConverter(plugin);
  }

  addConnector(plugin: ConnectorPlugin): this {
    for (const name of plugin.names) this.connectors.set(name, plugin);
    return this;
  }

  addConverter(plugin: ConverterPlugin): this {
    for (const name of plugin.names) this.converters.set(name, plugin);
    return this;
  }

  connector(name: string): ConnectorPlugin | undefined {
    return this.connectors.get(name);
  }

  connectorNames(): string[] {
    return [...new Set([...this.connectors.values()].map((p) => p.names[0]!))];
  }

  converter(name: string, origin: string): ConverterPlugin {
    const plugin = this.converters.get(name);
    if (!plugin) {
      const known = [...new Set([...this.converters.values()].map((p) => p.names.join(' | ')))];
      throw new ConfigError([`${origin}: unknown converter "${name}"; known: ${known.join('; ')}`]);
    }
    return plugin;
  }
}
