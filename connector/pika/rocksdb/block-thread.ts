import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startBundledWorker } from '../../../runtime/util/ts-worker.ts';
import type { BlockThreadMessage, UnpackRequest } from './block-thread-protocol.ts';
import { BlockUnpackError } from './block-unpack.ts';

/** A reader's use of the block thread: for tables of at least `minFileBytes`. */
export interface BlockThreadUse {
  thread: BlockThread;
  minFileBytes: number;
}

/** Whether readers use the block thread unless told: only where a second CPU core can run it. */
export function blockThreadByDefault(): boolean {
  return availableParallelism() > 1;
}

/** Below this size a table is read in the scanning thread: too few blocks to be worth the messages. */
export const BLOCK_THREAD_MIN_FILE_BYTES = 1024 * 1024;

/** A window's blocks as unpacked by the block thread: contents (views of one buffer), or why a block failed. */
export type UnpackedBlocks = (Uint8Array | BlockUnpackError)[];

/** After its last user lets go, the thread stays this long for the next one (a dump's instances open in turn). */
const IDLE_STOP_MS = 2000;

/**
 * A helper thread that reads data blocks ahead of a scan and verifies and decompresses them (about a fifth of a
 * dump decode's CPU), so the scanning thread mostly iterates. One per process, shared by every reader that
 * acquires it; started when first asked to unpack (small tables never ask), stopped a while after its last user
 * left. It only ever takes work off the caller: until it is running, and after it failed, `unpack` returns
 * undefined and the caller reads in its own thread.
 */
export class BlockThread {
  private static shared: BlockThread | undefined;

  /** The process's block thread; `release` it when done. */
  static acquire(): BlockThread {
    let t = BlockThread.shared;
    if (!t || t.stopped) BlockThread.shared = t = new BlockThread();
    t.users++;
    clearTimeout(t.idleTimer);
    return t;
  }

  /** Windows unpacked so far. */
  windowsUnpacked = 0;
  private worker: Worker | undefined;
  private starting = false;
  private listening = false;
  private stopped = false;
  private users = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (b: UnpackedBlocks) => void; reject: (e: Error) => void }>();
  private readonly started: Promise<boolean>;
  private markStarted: (listening: boolean) => void = () => undefined;

  private constructor() {
    this.started = new Promise((resolve) => (this.markStarted = resolve));
  }

  release(): void {
    if (--this.users > 0) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), IDLE_STOP_MS).unref();
  }

  /** Starts the thread if it is not running; resolves once it takes work (false: it could not start). */
  ready(): Promise<boolean> {
    if (!this.starting && !this.stopped) this.start();
    return this.started;
  }

  /**
   * Reads `length` bytes at `start` of `fd` and unpacks the blocks at `offsets` (`sizes` without trailers);
   * undefined when the thread cannot take work yet (then read in this thread). The promise rejects when the read
   * fails or the thread dies: reading again in this thread then reports (or avoids) the problem.
   */
  unpack(request: Omit<UnpackRequest, 'id'>): Promise<UnpackedBlocks> | undefined {
    void this.ready();
    const worker = this.worker;
    if (!worker || !this.listening || this.stopped) return undefined;
    const id = this.nextId++;
    if (this.pending.size === 0) worker.ref(); // a scan awaiting a reply must keep the process alive
    const reply = new Promise<UnpackedBlocks>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    worker.postMessage({ ...request, id } satisfies UnpackRequest);
    return reply;
  }

  private start(): void {
    this.starting = true;
    startBundledWorker(new URL('./block-thread-worker.ts', import.meta.url), { name: 'rocksdb blocks' }).then(
      (worker) => this.attach(worker),
      (err: Error) => this.fail(err),
    );
  }

  private attach(worker: Worker): void {
    if (this.stopped) {
      void worker.terminate();
      return;
    }
    this.worker = worker;
    worker.unref();
    worker.on('message', (m: BlockThreadMessage) => this.receive(m));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`block thread exited (code ${code})`)));
  }

  private receive(m: BlockThreadMessage): void {
    if ('listening' in m) {
      this.listening = true;
      this.markStarted(true);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker?.unref();
    if ('readError' in m) return p.reject(new Error(m.readError));
    this.windowsUnpacked++;
    const blocks: UnpackedBlocks = [];
    let start = 0;
    for (const end of m.ends) {
      blocks.push(new Uint8Array(m.buffer, start, end - start));
      start = end;
    }
    for (const f of m.failures) blocks[f.index] = new BlockUnpackError(f.message, f.offset);
    p.resolve(blocks);
  }

  private fail(err: Error): void {
    this.stopped = true;
    this.markStarted(false);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (BlockThread.shared === this) BlockThread.shared = undefined;
  }

  private stop(): void {
    if (this.users > 0) return;
    this.stopped = true;
    if (BlockThread.shared === this) BlockThread.shared = undefined;
    void this.worker?.terminate();
  }
}
