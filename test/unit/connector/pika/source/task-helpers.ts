import assert from 'node:assert/strict';
import type { SourceOffset, SourcePartition, SourceRecord, SourceTask, SourceTaskContext } from '../../../../../runtime/api/index.ts';
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

/** Polls `task` until it returned at least `count` records (20 s at most). */
export async function pollUntil(task: SourceTask, count: number): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  const deadline = Date.now() + 20_000;
  while (out.length < count) {
    assert.ok(Date.now() < deadline, `timed out: ${out.length} of ${count} records`);
    out.push(...await task.poll());
  }
  return out;
}
