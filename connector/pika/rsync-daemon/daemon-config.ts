// The files an `rsync --daemon` is started with, in the shape Pika writes them (`pstd::StartRsync`,
// src/pstd/src/rsync.cc; `slash::StartRsync` in 3.x): global settings, then one writable module. Differences on
// purpose: no pid file (the daemon runs with --no-detach, so we hold its pid; Pika's stale pid file kept daemons
// from starting, issue #930), `reverse lookup = no` (Pika's daemons stalled on reverse DNS, issue #1084), and the
// control files (conf, secrets, log — which we tail) live outside the module directory (a push cannot overwrite
// them).

export interface DaemonModule {
  /** Module name: `document` (3.1–3.4) or `document_<master ip>:<master port>` (3.0). */
  name: string;
  /** Directory the pushed files land in. */
  path: string;
  /** `auth users` + secrets file; undefined = no authentication (what Pika 3.0 configures). */
  auth?: { user: string; secret: string };
}

export interface DaemonFiles {
  conf: string;
  /** `<user>:<secret>\n` (rsyncd.conf(5) "secrets file"); written with mode 0600. */
  secrets: string | undefined;
}

const MODULE_NAME = /^[^\[\]\n\r/]+$/;
const CONF_VALUE = /^[^\n\r]*$/;

/** Throws a plain Error for values the conf syntax cannot carry (the caller wraps it). */
export function renderDaemonFiles(module: DaemonModule, secretsPath: string, logPath: string, runAsRoot: boolean): DaemonFiles {
  if (!MODULE_NAME.test(module.name)) throw new Error(`module name ${JSON.stringify(module.name)} cannot be used in rsyncd.conf`);
  for (const [what, value] of [['module path', module.path], ['secrets path', secretsPath], ['log path', logPath]] as const) {
    if (!CONF_VALUE.test(value) || value.trim() !== value) throw new Error(`${what} ${JSON.stringify(value)} cannot be used in rsyncd.conf`);
  }
  if (module.auth) {
    if (!/^[A-Za-z0-9._-]+$/.test(module.auth.user)) throw new Error(`rsync user ${JSON.stringify(module.auth.user)} cannot be used in rsyncd.conf`);
    if (module.auth.secret === '' || !CONF_VALUE.test(module.auth.secret)) throw new Error('the rsync secret must be one non-empty line');
  }
  const lines = [
    // Run as root, the daemon would otherwise switch to `nobody` and fail to write into our directory.
    ...(runAsRoot ? ['uid = root', 'gid = root'] : []),
    'use chroot = no',
    'reverse lookup = no',
    'list = no',
    'strict modes = yes',
    // Not /dev/stderr: node's stdio pipes are sockets, which cannot be reopened through /proc (rsync would fall back to syslog).
    `log file = ${logPath}`,
    `[${module.name}]`,
    `path = ${module.path}`,
    'read only = no',
    ...(module.auth ? [`auth users = ${module.auth.user}`, `secrets file = ${secretsPath}`] : []),
  ];
  return {
    conf: lines.join('\n') + '\n',
    secrets: module.auth ? `${module.auth.user}:${module.auth.secret}\n` : undefined,
  };
}
