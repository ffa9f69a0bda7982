import type { RestContext } from './context.ts';
import { parseOffsetChanges, readOffsets, resetOffsets, writeOffsets, type OffsetWriteTarget } from './offset-admin.ts';
import { HttpError, type RestRequest, type Router } from './router.ts';

/** Kafka Connect's offsets API (KIP-875): read any time; alter or reset only while the connector is STOPPED. */
export function addOffsetsRoutes(router: Router, ctx: RestContext): void {
  const target = (req: RestRequest, mustBeStopped: boolean): OffsetWriteTarget => {
    const name = req.params.name!;
    const runner = ctx.worker.connector(name);
    if (!runner) throw new HttpError(404, `Connector ${name} not found`);
    if (mustBeStopped && runner.status().connector.state !== 'STOPPED') {
      throw new HttpError(400, `Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/${name}/stop' endpoint`);
    }
    const worker = ctx.worker.config;
    return {
      client: ctx.worker.client,
      topic: worker.offsetStorageTopic,
      connector: name,
      clientId: worker.clientId,
      producerOverrides: { ...worker.producerProps, ...runner.config.producerOverrides },
    };
  };

  router.add('GET', '/connectors/{name}/offsets', async (req) => {
    const t = target(req, false);
    return { status: 200, body: await readOffsets(t.client, t.topic, t.connector) };
  });
  // Writes wait for (and hold back) stop/resume of the same connector, so it stays STOPPED while they run.
  router.add('PATCH', '/connectors/{name}/offsets', (req) => ctx.lifecycle.run(req.params.name!, async () => {
    const t = target(req, true);
    const changes = parseOffsetChanges(req.body);
    await writeOffsets(t, changes);
    ctx.logger.info('connector offsets altered through the REST API', { connector: t.connector, partitions: changes.length });
    return { status: 200, body: { message: 'The offsets for this connector have been altered successfully' } };
  }));
  router.add('DELETE', '/connectors/{name}/offsets', (req) => ctx.lifecycle.run(req.params.name!, async () => {
    const t = target(req, true);
    const count = await resetOffsets(t);
    ctx.logger.info('connector offsets reset through the REST API', { connector: t.connector, partitions: count });
    return { status: 200, body: { message: 'The offsets for this connector have been reset successfully' } };
  }));
}
