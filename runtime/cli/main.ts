import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { runStandalone } from './standalone.ts';
import { runOffsets } from './offsets.ts';
import { runValidate } from './validate.ts';
import { runDiagnose } from './diagnose.ts';

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

const offsets = program.command('offsets').description('read or change a connector\'s committed offsets in the offsets topic (no running worker needed)');
offsets.command('show')
  .description('print the committed offsets as JSON ({"offsets": [{"partition": …, "offset": …}]})')
  .argument('<worker.properties>').argument('<connector-name>')
  .action(async (workerFile: string, connector: string) => {
    process.exitCode = await runOffsets({ kind: 'show' }, workerFile, connector);
  });
offsets.command('reset')
  .description('tombstone every committed partition: the connector starts from scratch (one transaction)')
  .argument('<worker.properties>').argument('<connector-name>')
  .option('--force', 'write even if a worker on the listeners runs the connector')
  .action(async (workerFile: string, connector: string, opts: { force?: boolean }) => {
    process.exitCode = await runOffsets({ kind: 'reset' }, workerFile, connector, { force: opts.force === true });
  });
offsets.command('set')
  .description('set the offset of one source partition, e.g. set w.properties my-conn \'{"stream":0}\' \'{"seq":41}\'')
  .argument('<worker.properties>').argument('<connector-name>')
  .argument('<partition-json>', 'the source partition, a JSON object')
  .argument('<offset-json>', 'the offset, a JSON object')
  .option('--force', 'write even if a worker on the listeners runs the connector')
  .action(async (workerFile: string, connector: string, partition: string, offset: string, opts: { force?: boolean }) => {
    process.exitCode = await runOffsets({ kind: 'set', partition, offset }, workerFile, connector, { force: opts.force === true });
  });

program.command('validate')
  .description('check worker and connector files as the worker would at start; prints every problem (exit 0 valid, 2 invalid)')
  .argument('<worker.properties>').argument('[connector.properties...]')
  .action((workerFile: string, connectorFiles: string[]) => {
    process.exitCode = runValidate(workerFile, connectorFiles);
  });

program.command('diagnose')
  .description('write a support bundle (versions, redacted configs, status, loggers and metrics of a running worker, topics, offsets) to one JSON file')
  .argument('[worker.properties]').argument('[connector.properties...]')
  .option('--url <url>', 'REST address of the running worker (default: the first of the worker\'s listeners)')
  .option('--out <file>', 'where to write the bundle (default: ./pika-connect-diagnose-<time>.json)')
  .action(async (workerFile: string | undefined, connectorFiles: string[], opts: { url?: string; out?: string }) => {
    const path = await runDiagnose(workerFile, connectorFiles, opts);
    process.stdout.write(`support bundle written to ${path} (secrets are shown as [hidden]; check before sharing)\n`);
  });

await program.parseAsync(process.argv);
