import { parseWorkerProps, type WorkerConfig } from '../runtime/config/index.ts';

/** The broker of `bash scripts/run.sh`, or undefined after telling the user how to get one. */
export function demoBootstrap(): string | undefined {
  const bootstrap = process.env.KAFKA_BOOTSTRAP;
  if (!bootstrap) process.stderr.write('The demo needs a Kafka broker: run it through `bash scripts/run.sh`, which starts one, or set KAFKA_BOOTSTRAP.\n');
  return bootstrap;
}

/** The worker both demos run: JSON values without envelope, string keys, offsets and checkpoints under .cache/demo. */
export function demoWorkerConfig(bootstrap: string, extra: Record<string, string> = {}): WorkerConfig {
  return parseWorkerProps({
    'bootstrap.servers': bootstrap,
    'offset.storage.topic': 'pika-connect-demo-offsets',
    'offset.storage.partitions': '1',
    'offset.checkpoint.dir': '.cache/demo/checkpoints',
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': 'false',
    ...extra,
  }, { source: 'demo worker' });
}
