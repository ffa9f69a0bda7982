import { ConnectError } from '../api/errors.ts';

/**
 * The life of a task's transactional producer as a table of legal transitions. Every producer call goes through
 * `transition`, so an illegal sequence (e.g. commit without begin) is a bug caught at once, not a broker error.
 */
export type TxnState = 'uninitialized' | 'ready' | 'in_transaction' | 'committing' | 'aborting' | 'failed' | 'closed';
export type TxnEvent = 'init' | 'begin' | 'commit' | 'committed' | 'abort' | 'aborted' | 'fail' | 'close';

const TRANSITIONS: Record<TxnState, Partial<Record<TxnEvent, TxnState>>> = {
  uninitialized: { init: 'ready', fail: 'failed', close: 'closed' },
  ready: { begin: 'in_transaction', fail: 'failed', close: 'closed' },
  in_transaction: { commit: 'committing', abort: 'aborting', fail: 'failed' },
  committing: { committed: 'ready', fail: 'failed' },
  aborting: { aborted: 'ready', fail: 'failed' },
  failed: { abort: 'aborting', close: 'closed' },
  closed: {},
};

export class TransactionStateMachine {
  private current: TxnState = 'uninitialized';

  get state(): TxnState {
    return this.current;
  }

  can(event: TxnEvent): boolean {
    return TRANSITIONS[this.current][event] !== undefined;
  }

  transition(event: TxnEvent): TxnState {
    const next = TRANSITIONS[this.current][event];
    if (next === undefined) {
      throw new ConnectError(`illegal transaction transition: ${event} in state ${this.current}`, { code: 'ILLEGAL_STATE' });
    }
    this.current = next;
    return next;
  }
}

export const ALL_TXN_STATES = Object.keys(TRANSITIONS) as TxnState[];
export const ALL_TXN_EVENTS: TxnEvent[] = ['init', 'begin', 'commit', 'committed', 'abort', 'aborted', 'fail', 'close'];
export const legalTransition = (from: TxnState, event: TxnEvent): TxnState | undefined => TRANSITIONS[from][event];
