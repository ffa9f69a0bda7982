import type { SourceRecord } from './record.ts';

/**
 * Turns a record's key or value into bytes. Kafka Connect's Converter, async because schema-registry
 * converters may have to register a schema first (they must cache: not one registry call per record).
 */
export interface Converter {
  configure(config: Record<string, string>, isKey: boolean): Promise<void> | void;
  fromConnectData(topic: string, data: unknown, record: SourceRecord): Promise<Buffer | null> | Buffer | null;
  /** Reverse direction, used by tests, tools and the offsets CLI. */
  toConnectData(topic: string, bytes: Buffer | null): Promise<unknown> | unknown;
  close?(): Promise<void> | void;
}

export interface ConverterPlugin {
  names: string[];
  create(): Converter;
}
