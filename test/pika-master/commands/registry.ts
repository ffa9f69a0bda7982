// Name → command table of the test master (lowercase names).

import type { CommandSpec } from './common.ts';
import { bitHllCommands } from './bits-hll.ts';
import { hashCommands } from './hashes.ts';
import { keyCommands } from './keys.ts';
import { listCommands } from './lists.ts';
import { setCommands } from './sets.ts';
import { streamCommands } from './streams.ts';
import { stringCommands } from './strings.ts';
import { zsetCommands } from './zsets.ts';

export const commandTable: ReadonlyMap<string, CommandSpec> = new Map(Object.entries({
  ...stringCommands, ...keyCommands, ...hashCommands, ...listCommands,
  ...setCommands, ...zsetCommands, ...streamCommands, ...bitHllCommands,
}));
