import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OffsetEntry } from './offset-store.ts';

/**
 * A human-readable copy of what a task committed last, for operators (`cat` it to see where a task stands). The
 * offsets topic stays the source of truth: this file is never read back by the runtime.
 */
export class CheckpointFile {
  readonly path: string;
  private dirReady = false;

  constructor(private readonly dir: string, private readonly connector: string, private readonly taskId: number) {
    this.path = join(dir, `${connector}-${taskId}.json`);
  }

  async write(transactionalId: string, offsets: OffsetEntry[], records: number): Promise<void> {
    if (!this.dirReady) {
      await mkdir(this.dir, { recursive: true });
      this.dirReady = true;
    }
    const body = {
      connector: this.connector,
      task: this.taskId,
      transactional_id: transactionalId,
      committed_at: new Date().toISOString(),
      records_in_last_transaction: records,
      offsets,
    };
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, JSON.stringify(body, null, 2) + '\n');
    await rename(tmp, this.path);
  }
}
