// Finds the rsync daemons (and the transfers they forked) serving one control directory, through /proc.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Pids of live processes run as `rsync --daemon … --config=<controlDir>/rsyncd.conf` (the daemon and the connections it forked). */
export async function daemonPids(controlDir: string): Promise<number[]> {
  const config = `--config=${join(controlDir, 'rsyncd.conf')}`;
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (argv.includes('--daemon') && argv.includes(config)) pids.push(Number(entry));
  }
  return pids;
}

/** Waits up to `ms` for every such process to end (a SIGTERMed daemon exits within milliseconds); the pids left. */
export async function daemonsLeftAfter(controlDir: string, ms = 10_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const pids = await daemonPids(controlDir);
    if (pids.length === 0 || Date.now() > deadline) return pids;
    await new Promise((ok) => setTimeout(ok, 50));
  }
}
