import type { Converter } from '../../api/converter.ts';

/**
 * The Kafka thread's converter for a threaded task: records arrive with their key and value already converted by
 * the task thread's converters, so they pass through as the bytes they are.
 */
export class PreparedBytesConverter implements Converter {
  configure(): void {}

  fromConnectData(topic: string, data: unknown): Buffer | null {
    if (data === null || data === undefined) return null;
    if (Buffer.isBuffer(data)) return data;
    throw new Error(`a threaded task's record for ${topic} carries ${typeof data} instead of converted bytes`);
  }

  toConnectData(_topic: string, bytes: Buffer | null): Buffer | null {
    return bytes;
  }
}
