// Pointers from error messages to the runbook (docs/troubleshooting.md). The anchors are GitHub's heading slugs;
// test/unit/runtime/api/doc-ref.test.ts checks that each one is a heading of the guide.

export const TROUBLESHOOTING_SECTIONS = {
  listeners: 'advertised-listeners-and-name-resolution',
  topics: 'missing-topics',
  legacyVsPb: 'legacy-vs-pb-protocol',
  ports: 'replication-and-rsync-ports-2000-10001',
  protocolMismatch: 'protocol-mismatch',
  trySync: 'trysync-codes-2-and-3',
  rsyncDump: 'rsync2-dump-directory',
  forcedOffsets: 'full-sync-after-forced-offsets',
  sizeLimits: 'invalid-message-and-size-limits',
  coordinatorLoad: 'coordinator-load-in-progress',
  taskFailed: 'a-task-is-failed-or-keeps-restarting',
} as const;

export type TroubleshootingSection = keyof typeof TROUBLESHOOTING_SECTIONS;

/** `(see docs/troubleshooting.md#<anchor>)`: the last words of an error message about a runbook case. */
export function docRef(section: TroubleshootingSection): string {
  return `(see docs/troubleshooting.md#${TROUBLESHOOTING_SECTIONS[section]})`;
}

/** `message` ending with the pointer to `section` (once, even when called again on the same text). */
export function withDocRef(message: string, section: TroubleshootingSection): string {
  const ref = docRef(section);
  return message.endsWith(ref) ? message : `${message} ${ref}`;
}

const TRAILING_REF = / \(see docs\/troubleshooting\.md#[a-z0-9-]+\)$/;

/** `message` + `more`, keeping a pointer that ended `message` at the very end. */
export function extendMessage(message: string, more: string): string {
  const ref = TRAILING_REF.exec(message)?.[0] ?? '';
  return `${message.slice(0, message.length - ref.length)}${more}${ref}`;
}
