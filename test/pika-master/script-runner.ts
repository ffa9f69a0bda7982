// Feeds parsed redis-cli commands to a master the way `redis-cli -p <port> < script` would:
// SELECT switches the current DB, everything else runs in it.

import type { MasterCore } from './master-core.ts';
import type { Reply } from './resp/resp-codec.ts';

export interface ScriptRun {
  db: number;
  replies: Reply[];
}

export function runCommands(core: MasterCore, commands: Buffer[][], startDb = 0, beforeEach?: (index: number) => void): ScriptRun {
  let db = startDb;
  const replies: Reply[] = [];
  commands.forEach((argv, index) => {
    beforeEach?.(index);
    if (argv[0]!.toString('latin1').toLowerCase() === 'select') {
      const next = Number(argv[1]!.toString('latin1'));
      if (!Number.isInteger(next) || next < 0 || next >= core.dbCount) {
        replies.push(Buffer.from('-ERR invalid DB index\r\n'));
        return;
      }
      db = next;
      replies.push(Buffer.from('+OK\r\n'));
      return;
    }
    replies.push(core.exec(db, argv));
  });
  return { db, replies };
}
