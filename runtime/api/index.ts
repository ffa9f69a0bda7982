// The connector-facing API. Connectors import only from here — never from the rest of the runtime or Kafka clients.
export type * from './record.ts';
export type * from './task.ts';
export type * from './connector.ts';
export type * from './converter.ts';
export { ConnectError, RetriableError, ConfigError } from './errors.ts';
export type { Stage } from './errors.ts';
export { docRef, withDocRef, extendMessage, TROUBLESHOOTING_SECTIONS } from './doc-ref.ts';
export type { TroubleshootingSection } from './doc-ref.ts';
