// Whether a failed task incarnation is restarted automatically (Kafka Connect's RetriableException vs
// ConnectException): the error vocabulary of runtime/api/errors.ts decides, in this one place.
//
// - A ConnectError says it: `retriable` true (Kafka or the master unreachable, a lost connection, a dump replaced
//   under us…) → restart with back-off from the committed offsets; false (bad configuration, refused credentials,
//   a protocol mismatch, a record nothing may skip, snapshot.on.gap=fail…) → the task stays FAILED with its trace
//   until the operator restarts it (REST POST /connectors/<c>/tasks/<n>/restart), since restarting cannot fix it.
// - Anything else (socket errors, the Kafka client's own errors) is outside that vocabulary: it is treated as
//   transient and restarted, as before this policy existed.
import { ConnectError } from '../api/errors.ts';

export type FailureAction = 'restart' | 'stay-failed';

export function failureAction(error: unknown): FailureAction {
  if (error instanceof ConnectError) return error.retriable ? 'restart' : 'stay-failed';
  return 'restart';
}
