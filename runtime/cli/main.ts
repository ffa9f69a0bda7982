import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { runStandalone } from './standalone.ts';
import { runDemo } from './demo.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('pika-connect')
  .description('Kafka Connect-style standalone worker: streams sources (Pika / PikiwiDB, synthetic) into Kafka exactly once.')
  .version(pkg.version, '-V, --version')
  .argument('[worker.properties]', 'worker configuration (Kafka, offsets topic, converters)')
  .argument('[connector.properties...]', 'one file per connector')
  .option('--demo-seconds <n>', 'with no files: how long the embedded demo runs', '20')
  .action(async (workerFile: string | undefined, connectorFiles: string[], options: { demoSeconds: string }) => {
    if (!workerFile) {
      process.exitCode = await runDemo({ seconds: Number(options.demoSeconds) });
      return;
    }
    if (connectorFiles.length === 0) program.error('give at least one connector .properties file after the worker file');
    process.exitCode = await runStandalone(workerFile, connectorFiles);
  });

await program.parseAsync(process.argv);
