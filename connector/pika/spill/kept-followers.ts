// Replication sessions kept alive between two incarnations of a task (spill.enabled=true). When a Kafka outage
// ends an incarnation, the runtime starts the next one only once Kafka answers again; meanwhile the ended task keeps
// following the master into its spill log. In-process only: a crash simply ends it, and the log on disk is what the
// restart reads.
//
// The next incarnation takes it over in two steps: first the follower stops writing the log (so the log can be
// opened again), while its session stays registered on the master and keeps the binlog from its last acknowledged
// item from being purged; then, once the new session streams from the log's end, the old one leaves. A master only
// protects the binlog of a slave in BinlogSync (or DBSync) state, so leaving earlier let a fast-writing master with
// a short retention purge the log's end before the new session's TrySync and first BinlogSync reached it.
export interface KeptFollower {
  /** Stops writing the spill log and waits until it is closed; the session stays on the master. */
  stopSpilling(): Promise<void>;
  /** Ends the session (it leaves the master). */
  leave(): Promise<void>;
}

const kept = new Map<string, KeptFollower>();

export function keepFollower(key: string, follower: KeptFollower): void {
  kept.set(key, follower);
}

/** The follower kept under `key`, now owned by the caller, which must call `leave()` on it; undefined if none. */
export function takeFollower(key: string): KeptFollower | undefined {
  const follower = kept.get(key);
  kept.delete(key);
  return follower;
}

export function forgetFollower(key: string, follower: KeptFollower): void {
  if (kept.get(key) === follower) kept.delete(key);
}
