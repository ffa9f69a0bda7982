// Pushed full syncs that never came, or stopped half-way, per connector in this process. A timed-out push fails
// the task and the runtime starts a new task instance (which asks the master again): the count must outlive the
// instance to be seen in status (same idea as the PB task's gap count).

export interface PushTimeoutRecord {
  count: number;
  last: { at: string; db: string; message: string } | null;
}

const byConnector = new Map<string, PushTimeoutRecord>();

export function recordPushTimeout(connector: string, db: string, message: string): PushTimeoutRecord {
  const record = byConnector.get(connector) ?? { count: 0, last: null };
  record.count++;
  record.last = { at: new Date().toISOString(), db, message };
  byConnector.set(connector, record);
  return record;
}

export function pushTimeouts(connector: string): PushTimeoutRecord {
  return byConnector.get(connector) ?? { count: 0, last: null };
}
