import { checkConnectorProps, connectorSchema, type ConfigKeyDef } from '../config/index.ts';
import type { PluginRegistry } from '../plugins.ts';
import { HIDDEN, isSecretKey } from './masking.ts';

/** Kafka Connect's ConfigKeyInfo. */
interface ConfigKeyInfo {
  name: string;
  type: string;
  required: boolean;
  default_value: string | null;
  importance: 'HIGH' | 'MEDIUM' | 'LOW';
  documentation: string;
  group: string;
  width: 'NONE';
  display_name: string;
  dependents: string[];
  order: number;
}

interface ConfigValueInfo {
  name: string;
  value: string | null;
  recommended_values: string[];
  errors: string[];
  visible: boolean;
}

/** Kafka Connect's ConfigInfos, the body of `PUT /connector-plugins/{type}/config/validate`. */
export interface ConfigInfos {
  name: string;
  error_count: number;
  groups: string[];
  configs: Array<{ definition: ConfigKeyInfo; value: ConfigValueInfo }>;
}

const COMMON = 'Common';
/** Problems that name no key (e.g. the plugin's validate() itself failed). */
const GENERAL = 'Connector';

/**
 * Validates a connector config as `PUT /connector-plugins/{type}/config/validate`: every runtime and plugin key
 * with its value (secrets hidden) and every problem at the key it concerns; unknown keys are listed with their
 * error. Nothing is started.
 */
export function validateConnectorConfig(plugins: PluginRegistry, pluginClass: string, props: Record<string, string>): ConfigInfos {
  const lookup = Object.assign((cls: string) => plugins.connector(cls), { knownNames: () => plugins.connectorNames() });
  const check = checkConnectorProps(props, lookup, { source: 'request' });
  const errors = new Map<string, string[]>();
  for (const p of check.problems) {
    const key = p.key ?? '';
    errors.set(key, [...(errors.get(key) ?? []), p.message]);
  }
  const configs: ConfigInfos['configs'] = [];
  let order = 0;
  const add = (definition: Omit<ConfigKeyInfo, 'order' | 'width' | 'dependents' | 'display_name'>): void => {
    const raw = props[definition.name];
    const shown = raw === undefined ? null : isSecretKey(definition.name) ? HIDDEN : raw;
    configs.push({
      definition: { ...definition, width: 'NONE', display_name: definition.name, dependents: [], order: ++order },
      value: { name: definition.name, value: shown, recommended_values: [], errors: errors.get(definition.name) ?? [], visible: true },
    });
    errors.delete(definition.name);
  };
  for (const def of connectorSchema.keys) add(runtimeKeyInfo(def));
  const plugin = plugins.connector(pluginClass);
  const pluginGroup = plugin?.names[0] ?? pluginClass;
  let pluginKeys: string[] = [];
  try {
    pluginKeys = plugin?.create().configKeys() ?? [];
  } catch {
    // reported by checkConnectorProps as a connector.class problem
  }
  for (const key of pluginKeys.filter((k) => !k.endsWith('.*'))) {
    add({ name: key, type: isSecretKey(key) ? 'PASSWORD' : 'STRING', required: false, default_value: null, importance: 'MEDIUM', documentation: '', group: pluginGroup });
  }
  // Keys that are set but defined nowhere above (prefixed keys, unknown keys) and problems without a key.
  for (const key of Object.keys(props)) {
    if (configs.some((c) => c.definition.name === key)) continue;
    add({ name: key, type: isSecretKey(key) ? 'PASSWORD' : 'STRING', required: false, default_value: null, importance: 'LOW', documentation: '', group: COMMON });
  }
  for (const [key, messages] of errors) {
    const name = key || GENERAL;
    configs.push({
      definition: { name, type: 'STRING', required: false, default_value: null, importance: 'LOW', documentation: '', group: GENERAL, width: 'NONE', display_name: name, dependents: [], order: ++order },
      value: { name, value: null, recommended_values: [], errors: messages, visible: true },
    });
  }
  const groups = [...new Set(configs.map((c) => c.definition.group))];
  return { name: pluginGroup, error_count: check.problems.length, groups, configs };
}

function runtimeKeyInfo(def: ConfigKeyDef): Omit<ConfigKeyInfo, 'order' | 'width' | 'dependents' | 'display_name'> {
  const type = isSecretKey(def.name) ? 'PASSWORD' : ({ int: 'INT', boolean: 'BOOLEAN', list: 'LIST' } as Record<string, string>)[def.format.type] ?? 'STRING';
  return {
    name: def.name,
    type,
    required: def.required === true,
    default_value: def.default ?? null,
    importance: def.required ? 'HIGH' : 'MEDIUM',
    documentation: def.doc,
    group: COMMON,
  };
}
