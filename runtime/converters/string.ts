import type { Converter, ConverterPlugin } from '../api/converter.ts';

/** Kafka Connect's StringConverter: strings as UTF-8; Buffers pass through unchanged (binary keys stay exact). */
export class StringConverter implements Converter {
  configure(): void {}

  fromConnectData(_topic: string, data: unknown): Buffer | null {
    if (data === null || data === undefined) return null;
    if (Buffer.isBuffer(data)) return data;
    return Buffer.from(typeof data === 'string' ? data : JSON.stringify(data), 'utf8');
  }

  toConnectData(_topic: string, bytes: Buffer | null): unknown {
    return bytes ? bytes.toString('utf8') : null;
  }
}

/** Kafka Connect's ByteArrayConverter: the value must already be bytes. */
export class ByteArrayConverter implements Converter {
  configure(): void {}

  fromConnectData(topic: string, data: unknown): Buffer | null {
    if (data === null || data === undefined) return null;
    if (Buffer.isBuffer(data)) return data;
    if (data instanceof Uint8Array) return Buffer.from(data);
    throw new TypeError(`ByteArrayConverter needs bytes for topic ${topic}, got ${typeof data}`);
  }

  toConnectData(_topic: string, bytes: Buffer | null): unknown {
    return bytes;
  }
}

export const stringConverterPlugin: ConverterPlugin = {
  names: ['org.apache.kafka.connect.storage.StringConverter', 'string'],
  create: () => new StringConverter(),
};

export const byteArrayConverterPlugin: ConverterPlugin = {
  names: ['org.apache.kafka.connect.converters.ByteArrayConverter', 'bytes'],
  create: () => new ByteArrayConverter(),
};
