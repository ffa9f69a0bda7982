import { readFileSync } from 'node:fs';

const TICK_MICROS = 1_000_000 / 100; // USER_HZ is 100 on Linux (`getconf CLK_TCK`)

/**
 * CPU time (user + system, µs, 10 ms resolution) of the process's main thread alone, from
 * /proc/self/task/<pid>/stat (the main thread's id is the pid); process.cpuUsage() counts every thread.
 */
export function threadCpuMicros(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MICROS;
}
