// Confluent-compatible Avro converter (schema registry, Confluent wire format). Register avroConverterPlugin with
// the runtime's PluginRegistry; it knows no connector.
export { AvroConverter, avroConverterPlugin, parseSchema } from './avro-converter.ts';
export type { AvroSchemaHint } from './avro-converter.ts';
export { SchemaRegistryClient } from './registry-client.ts';
export type { FetchLike } from './registry-client.ts';
export { encodeFramed, decodeFramed, MAGIC_BYTE } from './wire-format.ts';
export { subjectNameStrategy, SUBJECT_STRATEGY_NAMES } from './subject-strategy.ts';
export { toAvroValue, fromAvroValue } from './value-mapping.ts';
export { AVRO_CONVERTER_KEYS } from './converter-config.ts';
