import { ConfigError } from '../api/errors.ts';
import { bundledPlugins } from '../bundled-plugins.ts';
import { loadAll } from './standalone.ts';

/**
 * `pika-connect validate worker.properties [connector.properties…]`: checks every file as the worker would at
 * start and prints every problem. Exit 0 when all are valid, 2 otherwise. Nothing connects to Kafka.
 */
export function runValidate(workerFile: string, connectorFiles: string[], out = (t: string) => process.stdout.write(t), err = (t: string) => process.stderr.write(t)): number {
  try {
    const { worker, connectors } = loadAll(workerFile, connectorFiles, bundledPlugins());
    out(`OK: ${worker.file}${connectors.map((c) => `, ${c.file} (connector ${c.name}, ${c.connectorClass})`).join('')}\n`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      err(`${error.problems.length} problem(s):\n${error.problems.map((p) => `  - ${p}`).join('\n')}\n`);
      return 2;
    }
    err(`${(error as Error).message}\n`);
    return 2;
  }
}
