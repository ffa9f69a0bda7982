// Which runbook section (docs/troubleshooting.md) explains a Kafka client error, and the error re-thrown with the
// pointer in its message. kafkajs nests the broker's error under retry wrappers (`cause`) and aggregates (`errors`).
import { ConnectError, docRef, type TroubleshootingSection } from '../api/index.ts';

const SECTION_OF_TYPE: Record<string, TroubleshootingSection> = {
  MESSAGE_TOO_LARGE: 'sizeLimits',
  RECORD_LIST_TOO_LARGE: 'sizeLimits',
  INVALID_RECORD: 'sizeLimits',
  COORDINATOR_LOAD_IN_PROGRESS: 'coordinatorLoad',
  COORDINATOR_NOT_AVAILABLE: 'coordinatorLoad',
  UNKNOWN_TOPIC_OR_PARTITION: 'topics',
};

const TRANSIENT_SECTIONS = new Set<TroubleshootingSection>(['listeners', 'coordinatorLoad', 'topics']);

/** Texts of errors that carry no broker error type (socket errors, librdkafka-style wording). */
const SECTION_OF_TEXT: Array<[RegExp, TroubleshootingSection]> = [
  [/invalid message|message larger than|message size too large/i, 'sizeLimits'],
  [/coordinator is loading|coordinator load in progress/i, 'coordinatorLoad'],
  [/does not host this topic-partition|unknown topic/i, 'topics'],
  [/ENOTFOUND|EAI_AGAIN|getaddrinfo|ECONNREFUSED|EHOSTUNREACH|Connection (error|timeout)/, 'listeners'],
];

/** The error and everything nested in it, outermost first (bounded: cycles and deep chains end the walk). */
function chain(error: unknown): Array<{ type?: unknown; message?: unknown; code?: unknown }> {
  const out: Array<{ type?: unknown; message?: unknown; code?: unknown }> = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && out.length < 16) {
    const e = queue.shift();
    if (e === null || typeof e !== 'object' || out.includes(e)) continue;
    out.push(e);
    const { cause, errors } = e as { cause?: unknown; errors?: unknown };
    queue.push(cause, ...(Array.isArray(errors) ? errors : []));
  }
  return out;
}

export function kafkaErrorSection(error: unknown): TroubleshootingSection | undefined {
  const all = chain(error);
  for (const e of all) {
    const section = typeof e.type === 'string' ? SECTION_OF_TYPE[e.type] : undefined;
    if (section) return section;
  }
  const text = all.map((e) => `${String(e.message ?? '')} ${String(e.code ?? '')}`).join(' ') || String(error);
  return SECTION_OF_TEXT.find(([pattern]) => pattern.test(text))?.[1];
}

/** The broker error type deepest in the chain that names one (e.g. MESSAGE_TOO_LARGE under a retry wrapper). */
function brokerType(error: unknown): string | undefined {
  return chain(error).map((e) => e.type).filter((t): t is string => typeof t === 'string').pop();
}

/**
 * A Kafka client error explained by a runbook section becomes a ConnectError whose message ends with the pointer
 * (the original as `cause`; retriable when the section's cause is transient or the original says so); any other
 * error is returned as it is.
 */
export function explainKafkaError(error: unknown, what: string, describe: (error: unknown) => string): unknown {
  const section = kafkaErrorSection(error);
  if (section === undefined || error instanceof ConnectError) return error;
  const type = brokerType(error);
  return new ConnectError(`${what}: ${describe(error)} ${docRef(section)}`, {
    code: type ? `KAFKA_${type}` : 'KAFKA_UNREACHABLE',
    // Unreachable brokers, a loading coordinator, a topic not yet known everywhere pass (kafkajs gives up on them
    // with a non-retriable wrapper); size limits do not.
    retriable: TRANSIENT_SECTIONS.has(section) || (error as { retriable?: unknown }).retriable === true,
    cause: error,
  });
}
