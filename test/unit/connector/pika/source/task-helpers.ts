import type { SourceOffset, SourcePartition, SourceTaskContext } from '../../../../../runtime/api/index.ts';
import { recordingLogger, type LogLine } from '../replication/session-helpers.ts';

export interface FakeContext extends SourceTaskContext {
  status: Record<string, unknown>;
  log: LogLine[];
  abort(): void;
}

/** A task context as the runtime builds it, with fixed committed offsets. */
export function fakeContext(committed: Array<{ partition: SourcePartition; offset: SourceOffset }> = [], name = 'pika-test'): FakeContext {
  const logger = recordingLogger();
  const controller = new AbortController();
  const ctx: FakeContext = {
    connectorName: name,
    taskId: 0,
    offsets: {
      offset: (p) => committed.find((c) => JSON.stringify(c.partition) === JSON.stringify(p))?.offset,
      all: () => committed,
    },
    logger,
    signal: controller.signal,
    status: {},
    log: logger.lines,
    reportStatus(status) { ctx.status = { ...ctx.status, ...status }; },
    abort: () => controller.abort(),
  };
  return ctx;
}
