// Ties a child process's life to the thread that spawns it. Node cannot set PR_SET_PDEATHSIG for a child, but
// util-linux's `setpriv --pdeathsig <signal> -- <program>` sets it and then execs the program (same pid, so process
// group kills and /proc/<pid>/cmdline see the program itself). Linux sends the signal when the thread that forked
// the child ends: the worker process's main thread, or a task thread (task.thread.enable) — SIGKILL included.
// setpriv is in util-linux (Essential in Debian); `--pdeathsig` needs util-linux 2.33 or newer.
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

let wrapper: Promise<string[] | undefined> | undefined;

/**
 * `[setpriv, --pdeathsig, SIGTERM, --]` to put before a program's argv, or undefined when setpriv is missing or
 * too old (checked once per process by running it).
 */
export function parentDeathWrapper(): Promise<string[] | undefined> {
  wrapper ??= (async () => {
    const setpriv = await findExecutable('setpriv');
    if (setpriv === undefined) return undefined;
    const argv = [setpriv, '--pdeathsig', 'SIGTERM', '--'];
    const works = await new Promise<boolean>((done) => execFile(argv[0]!, [...argv.slice(1), 'true'], (error) => done(!error)));
    return works ? argv : undefined;
  })();
  return wrapper;
}

/** The absolute path of `name` as a shell would find it (a path containing `/` is taken as is), if executable. */
export async function findExecutable(name: string): Promise<string | undefined> {
  const candidates = name.includes('/') ? [resolve(name)] : (process.env.PATH ?? '').split(delimiter).filter((d) => isAbsolute(d)).map((d) => join(d, name));
  for (const path of candidates) {
    if (await access(path, constants.X_OK).then(() => true, () => false)) return path;
  }
  return undefined;
}
