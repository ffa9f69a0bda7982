// Environment variables that override config keys, with the naming rule of Confluent's Docker images:
// upper-case the key, then `_` → `___`, `-` → `__`, `.` → `_`.
//   worker key     offset.flush.interval.ms  →  CONNECT_OFFSET_FLUSH_INTERVAL_MS
//   connector key  pika.host of connector "pika-source"  →  CONNECTOR_PIKA_SOURCE_PIKA_HOST
// (connector name upper-cased, every character other than A-Z and 0-9 → `_`). Decoding lower-cases the key, so
// keys with upper-case letters cannot be set from the environment.
import type { Entry } from './problems.ts';

export const WORKER_ENV_PREFIX = 'CONNECT_';

export function envNameForKey(prefix: string, key: string): string {
  return prefix + key.toUpperCase().replace(/_/g, '___').replace(/-/g, '__').replace(/\./g, '_');
}

/** Inverse of envNameForKey's key part: runs of 3 underscores → `_`, 2 → `-`, 1 → `.` (longest first). */
export function keyForEnvSuffix(suffix: string): string {
  return suffix.toLowerCase().replace(/_+/g, (run) => {
    let out = '';
    let n = run.length;
    while (n >= 3) { out += '_'; n -= 3; }
    if (n === 2) out += '-';
    if (n === 1) out += '.';
    return out;
  });
}

export function connectorEnvPrefix(connectorName: string): string {
  return `CONNECTOR_${connectorName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
}

/** Every variable starting with `prefix` (and with something after it), as an entry of the decoded key. */
export function envEntries(env: NodeJS.ProcessEnv, prefix: string, skipPrefixes: readonly string[] = []): Entry[] {
  const out: Entry[] = [];
  for (const [variable, value] of Object.entries(env)) {
    if (value === undefined || !variable.startsWith(prefix) || variable.length === prefix.length) continue;
    if (skipPrefixes.some((p) => p.length > prefix.length && variable.startsWith(p))) continue;
    out.push({ key: keyForEnvSuffix(variable.slice(prefix.length)), value, origin: { kind: 'env', variable } });
  }
  return out.sort((a, b) => (a.origin.kind === 'env' && b.origin.kind === 'env' ? cmp(a.origin.variable, b.origin.variable) : 0));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
