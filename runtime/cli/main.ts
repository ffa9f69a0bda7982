import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { runStandalone } from './standalone.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('pika-connect')
  .description('Kafka Connect-style standalone worker: streams sources (Pika / PikiwiDB, synthetic) into Kafka exactly once.')
  .version(pkg.version, '-V, --version')
  .argument('[worker.properties]', 'worker configuration (Kafka, offsets topic, converters)')
  .argument('[connector.properties...]', 'one file per connector')
  .option('--demo <kind>', 'with no files: which embedded demo runs (pika | synthetic)', 'pika')
  .option('--demo-seconds <n>', 'with no files: how long the embedded demo writes', '20')
  .option('--demo-rate <n>', 'with no files: commands per second the pika demo writes', '200')
  .action(async (workerFile: string | undefined, connectorFiles: string[], options: { demo: string; demoSeconds: string; demoRate: string }) => {
    if (!workerFile) {
      // The demos live outside the runtime (they bring a test Pika master along): loaded only when asked for.
      if (options.demo === 'synthetic') {
        const { runSyntheticDemo } = await import('../../demo/synthetic-demo.ts');
        process.exitCode = await runSyntheticDemo({ seconds: Number(options.demoSeconds) });
      } else {
        const { runPikaDemo } = await import('../../demo/pika-demo.ts');
        process.exitCode = await runPikaDemo({ seconds: Number(options.demoSeconds), rate: Number(options.demoRate) });
      }
      return;
    }
    if (connectorFiles.length === 0) program.error('give at least one connector .properties file after the worker file');
    process.exitCode = await runStandalone(workerFile, connectorFiles);
  });

await program.parseAsync(process.argv);
