// Starts and supervises one `rsync --daemon --no-detach` (Debian's rsync) for a Pika master to push a dump into.
// Contract:
// - `start()` resolves once the daemon answers `@RSYNCD:` on its port; it rejects with a RsyncDaemonError
//   (PIKA_RSYNCD_MISSING / _BIND / _START) naming the port and its purpose. A daemon left over by a killed
//   earlier process of ours (same control directory) is stopped first.
// - After that it is restarted with back-off when it dies. A bind failure, or more than `maxRestarts` deaths
//   without a minute of uptime in between, is final: `failure` is set and `onFailure` called once.
// - Every log line of the daemon goes to `onLogLine` (and the debug log); a refused login (wrong secret) also
//   to `onAuthFailure`.
// - `stop()` ends the daemon and the transfers it forked (its process group) and is idempotent. A `stop()` while
//   `start()` is under way wins: no daemon is left running and `start()` rejects. A failed `start()` leaves none
//   either.
// - The daemon dies with the thread that started it, even when that is SIGKILLed: it is run through util-linux's
//   `setpriv --pdeathsig SIGTERM` when present (Linux sends the signal when the spawning thread ends). Without
//   setpriv, the pid file above is the fallback: the next start in the same control directory stops the orphan.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { join, resolve } from 'node:path';
import type { Logger } from '../../../runtime/api/index.ts';
import { renderDaemonFiles, type DaemonModule } from './daemon-config.ts';
import { RsyncDaemonError } from './errors.ts';
import { findExecutable, parentDeathWrapper } from './parent-death.ts';

export interface RsyncDaemonOptions {
  /** TCP port the master connects to (3.1–3.4: reported replica port + 1000; 3.0: + 3000). */
  port: number;
  /** Listen address (default 0.0.0.0, as Pika's daemons). */
  bind?: string;
  module: DaemonModule;
  /** Holds rsyncd.conf, the secrets file and our pid file; must not be inside the module path. */
  controlDir: string;
  /** Said in every error, e.g. "Pika 3.1–3.4 full-sync push (pika.replica.port + 1000)". */
  purpose: string;
  logger: Logger;
  /** Default `rsync` from PATH. */
  rsyncPath?: string;
  /** How long `start()` waits for the daemon to listen (default 10 s). */
  startTimeoutMs?: number;
  /** Deaths tolerated before giving up (default 5); restarts wait 200 ms doubling to 5 s. */
  maxRestarts?: number;
  onLogLine?(line: string): void;
  onAuthFailure?(line: string): void;
  onFailure?(error: RsyncDaemonError): void;
}

const PID_FILE = 'rsyncd.owner.pid';
const STABLE_UPTIME_MS = 60_000;

export class RsyncDaemon {
  failure: RsyncDaemonError | undefined;
  /** `transfers`: module requests (a push of one file or directory), unlike `connections` not our own probes. */
  readonly stats = { starts: 0, restarts: 0, connections: 0, transfers: 0, authFailures: 0 };
  private child: ChildProcess | undefined;
  private stopping = false;
  /** Counts stop() calls: a start() that sees it change was stopped meanwhile. */
  private stops = 0;
  /** The rsync binary (absolute path) and the wrapper that ties it to our thread, resolved by start(). */
  private command: { file: string; args: string[] } | undefined;
  private deaths = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private childStartedAt = 0;
  private readonly recentLines: string[] = [];
  private readonly confPath: string;
  private readonly secretsPath: string;
  private readonly logPath: string;
  private logTail: LogTail | undefined;

  constructor(private readonly o: RsyncDaemonOptions) {
    this.confPath = resolve(o.controlDir, 'rsyncd.conf');
    this.secretsPath = resolve(o.controlDir, 'rsyncd.secrets');
    this.logPath = resolve(o.controlDir, 'rsyncd.log');
  }

  get port(): number {
    return this.o.port;
  }

  get moduleName(): string {
    return this.o.module.name;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private where(): string {
    return `port ${this.o.port} (${this.o.purpose}; rsync daemon on ${this.o.bind ?? '0.0.0.0'}:${this.o.port}, module ${this.o.module.name})`;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.stopping = false;
    const stops = this.stops;
    const stoppedMeanwhile = (): void => {
      if (this.stops !== stops) throw new RsyncDaemonError(`the rsync daemon for ${this.where()} was stopped while starting`, 'PIKA_RSYNCD_START');
    };
    try {
      this.command = await this.resolveCommand();
      await this.writeFiles();
      await this.killLeftover();
      await this.checkPortFree();
      stoppedMeanwhile();
      await this.spawnAndWait();
      stoppedMeanwhile();
    } catch (error) {
      // Whatever got started (child, log tail, pid file) ends with the failed start.
      await this.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    this.stops++;
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = undefined;
    if (child) await terminate(child);
    await this.logTail?.poll();
    this.logTail?.stop();
    await rm(join(this.o.controlDir, PID_FILE), { force: true });
  }

  private async resolveCommand(): Promise<{ file: string; args: string[] }> {
    const rsync = await findExecutable(this.o.rsyncPath ?? 'rsync');
    if (rsync === undefined) {
      throw new RsyncDaemonError(`rsync is not installed (Debian: apt-get install rsync; scripts/setup.sh does it); it is needed for the rsync daemon on ${this.where()}`, 'PIKA_RSYNCD_MISSING');
    }
    const args = ['--daemon', '--no-detach', `--config=${this.confPath}`, `--port=${this.o.port}`, `--address=${this.o.bind ?? '0.0.0.0'}`];
    const wrapper = await parentDeathWrapper();
    return wrapper ? { file: wrapper[0]!, args: [...wrapper.slice(1), rsync, ...args] } : { file: rsync, args };
  }

  private async writeFiles(): Promise<void> {
    const modulePath = resolve(this.o.module.path);
    if (`${modulePath}/`.startsWith(`${resolve(this.o.controlDir)}/`) || `${resolve(this.o.controlDir)}/`.startsWith(`${modulePath}/`)) {
      throw new RsyncDaemonError(`rsync daemon for ${this.where()}: control directory ${this.o.controlDir} and module path ${modulePath} must not contain each other`, 'PIKA_RSYNCD_CONFIG');
    }
    let files;
    try {
      files = renderDaemonFiles({ ...this.o.module, path: modulePath }, this.secretsPath, this.logPath, process.getuid?.() === 0);
    } catch (error) {
      throw new RsyncDaemonError(`rsync daemon for ${this.where()}: ${(error as Error).message}`, 'PIKA_RSYNCD_CONFIG', error);
    }
    await mkdir(this.o.controlDir, { recursive: true, mode: 0o700 });
    await mkdir(modulePath, { recursive: true });
    await writeFile(this.confPath, files.conf, { mode: 0o600 });
    await rm(this.secretsPath, { force: true });
    if (files.secrets !== undefined) await writeFile(this.secretsPath, files.secrets, { mode: 0o600 });
    await writeFile(this.logPath, '');
    this.logTail?.stop();
    this.logTail = new LogTail(this.logPath, (line) => this.logLine(line));
  }

  /** A daemon of ours that outlived its parent (SIGKILL) still holds the port: stop it. */
  private async killLeftover(): Promise<void> {
    const pidFile = join(this.o.controlDir, PID_FILE);
    const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 1) return;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('--daemon') && cmdline.includes(`--config=${this.confPath}`)) {
      this.o.logger.warn('stopping an rsync daemon left over by an earlier run of this connector', { pid, port: this.o.port });
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
      }
      for (let i = 0; i < 50 && (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')) !== ''; i++) await sleep(50);
    }
    await rm(pidFile, { force: true });
  }

  /** rsync reports a taken port only in its log; checking first gives a clear error before spawning. */
  private async checkPortFree(): Promise<void> {
    const server = createServer();
    try {
      await new Promise<void>((ok, fail) => {
        server.once('error', fail);
        server.listen({ port: this.o.port, host: this.o.bind ?? '0.0.0.0', exclusive: true }, () => ok());
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'the port is already in use' : code === 'EADDRNOTAVAIL' ? 'that address is not one of this host' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
      throw new RsyncDaemonError(`cannot bind ${this.where()}: ${why}`, 'PIKA_RSYNCD_BIND', error);
    } finally {
      await new Promise<void>((ok) => (server.listening ? server.close(() => ok()) : ok()));
    }
  }

  private launch(): ChildProcess {
    // Own process group: stop() ends the daemon and the receivers it forked in one signal.
    const child = spawn(this.command!.file, this.command!.args, { stdio: 'ignore', detached: true });
    this.stats.starts++;
    this.childStartedAt = Date.now();
    child.once('exit', () => void this.logTail?.poll());
    return child;
  }

  private logLine(raw: string): void {
    const line = raw.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[\d+\] /, '');
    this.recentLines.push(line);
    if (this.recentLines.length > 20) this.recentLines.shift();
    this.o.logger.debug('rsync daemon', { port: this.o.port, line });
    if (/^connect from /.test(line)) this.stats.connections++;
    if (/^rsync (to|on) \S+ from /.test(line)) this.stats.transfers++;
    if (/auth failed on module/.test(line)) {
      this.stats.authFailures++;
      this.o.onAuthFailure?.(line);
    }
    this.o.onLogLine?.(line);
  }

  private spawnAndWait(): Promise<void> {
    const child = this.launch();
    this.child = child;
    return new Promise<void>((ok, fail) => {
      let settled = false;
      const deadline = Date.now() + (this.o.startTimeoutMs ?? 10_000);
      const settle = (error?: RsyncDaemonError): void => {
        if (settled) return;
        settled = true;
        if (error) {
          if (this.child === child) this.child = undefined;
          fail(error);
        } else {
          ok();
        }
      };
      child.once('error', (error: NodeJS.ErrnoException) => {
        settle(error.code === 'ENOENT'
          ? new RsyncDaemonError(`rsync is not installed (Debian: apt-get install rsync; scripts/setup.sh does it); it is needed for the rsync daemon on ${this.where()}`, 'PIKA_RSYNCD_MISSING', error)
          : new RsyncDaemonError(`cannot run rsync for ${this.where()}: ${error.message}`, 'PIKA_RSYNCD_START', error));
      });
      child.once('exit', (code, signal) => {
        void this.logTail?.poll().then(() => {
          if (!settled) {
            settle(this.stopping
              ? new RsyncDaemonError(`the rsync daemon for ${this.where()} was stopped while starting`, 'PIKA_RSYNCD_START')
              : this.exitError(code, signal, 'while starting'));
            return;
          }
          this.onExit(child, code, signal);
        });
      });
      child.once('spawn', () => {
        void writeFile(join(this.o.controlDir, PID_FILE), `${child.pid}\n`).catch(() => {});
        const probe = async (): Promise<void> => {
          while (!settled) {
            if (await greets(this.o.bind === undefined || this.o.bind === '0.0.0.0' ? '127.0.0.1' : this.o.bind, this.o.port)) {
              this.o.logger.info('rsync daemon listening', { port: this.o.port, bind: this.o.bind ?? '0.0.0.0', module: this.o.module.name, path: resolve(this.o.module.path), auth: this.o.module.auth ? this.o.module.auth.user : 'none', pid: child.pid });
              settle();
              return;
            }
            if (Date.now() > deadline) {
              await terminate(child);
              settle(new RsyncDaemonError(`the rsync daemon for ${this.where()} did not listen within ${this.o.startTimeoutMs ?? 10_000} ms${this.tail()}`, 'PIKA_RSYNCD_START'));
              return;
            }
            await sleep(50);
          }
        };
        void probe();
      });
    });
  }

  private exitError(code: number | null, signal: NodeJS.Signals | null, when: string): RsyncDaemonError {
    const bind = this.recentLines.some((l) => /bind\(\) failed|unable to bind/.test(l));
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    return bind
      ? new RsyncDaemonError(`cannot bind ${this.where()}: rsync says${this.tail()}`, 'PIKA_RSYNCD_BIND')
      : new RsyncDaemonError(`the rsync daemon for ${this.where()} ended ${when} (${how})${this.tail()}`, 'PIKA_RSYNCD_START');
  }

  private tail(): string {
    const lines = this.recentLines.slice(-4);
    return lines.length ? `: ${lines.join(' | ')}` : '';
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping || this.child !== child) return;
    this.child = undefined;
    if (Date.now() - this.childStartedAt > STABLE_UPTIME_MS) this.deaths = 0;
    this.deaths++;
    const error = this.exitError(code, signal, 'unexpectedly');
    if (error.code === 'PIKA_RSYNCD_BIND' || this.deaths > (this.o.maxRestarts ?? 5)) {
      this.giveUp(error.code === 'PIKA_RSYNCD_BIND' ? error : new RsyncDaemonError(`${error.message}; it died ${this.deaths} times, giving up`, 'PIKA_RSYNCD_CRASHING'));
      return;
    }
    const delay = Math.min(5000, 200 * 2 ** (this.deaths - 1));
    this.o.logger.warn('rsync daemon died; restarting it', { port: this.o.port, code, signal, restart_in_ms: delay, deaths: this.deaths, last: this.recentLines.slice(-2) });
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.stats.restarts++;
      this.spawnAndWait().catch((e: RsyncDaemonError) => this.giveUp(e));
    }, delay);
  }

  private giveUp(error: RsyncDaemonError): void {
    if (this.failure || this.stopping) return;
    this.failure = error;
    this.o.logger.error('rsync daemon failed', { port: this.o.port, error: error.message });
    this.o.onFailure?.(error);
  }
}

/** Follows the daemon's log file (polling: it is small and lines are rare). */
class LogTail {
  private position = 0;
  private pending = '';
  private reading: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly path: string, private readonly onLine: (line: string) => void) {
    this.timer = setInterval(() => void this.poll(), 100);
    this.timer.unref();
  }

  poll(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async read(): Promise<void> {
    const handle = await open(this.path, 'r').catch(() => undefined);
    if (!handle) return;
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.position);
        if (bytesRead === 0) break;
        this.position += bytesRead;
        this.pending += buffer.subarray(0, bytesRead).toString('utf8');
      }
    } finally {
      await handle.close();
    }
    const lines = this.pending.split('\n');
    this.pending = lines.pop()!;
    for (const line of lines) if (line.trim() !== '') this.onLine(line);
  }
}

/** True when something on host:port answers with rsync's daemon greeting. */
function greets(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = new Socket();
    let data = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\n')) finish(data.startsWith('@RSYNCD:'));
    });
    socket.connect(port, host);
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      child.kill(sig);
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

function sleep(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, ms));
}
