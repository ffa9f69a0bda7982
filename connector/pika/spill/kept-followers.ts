// Replication sessions kept alive between two incarnations of a task (spill.enabled=true). When a Kafka outage
// ends an incarnation, the runtime starts the next one only once Kafka answers again; meanwhile the ended task keeps
// following the master into its spill log. The next incarnation (or the runtime's stop signal) releases it before
// opening the same log. In-process only: a crash simply ends it, and the log on disk is what the restart reads.
const kept = new Map<string, () => Promise<void>>();

export function keepFollower(key: string, release: () => Promise<void>): void {
  kept.set(key, release);
}

/** Stops the follower kept under `key`, if any, and waits until its spill log is closed. */
export async function releaseFollower(key: string): Promise<void> {
  const release = kept.get(key);
  kept.delete(key);
  await release?.();
}

export function forgetFollower(key: string, release: () => Promise<void>): void {
  if (kept.get(key) === release) kept.delete(key);
}
