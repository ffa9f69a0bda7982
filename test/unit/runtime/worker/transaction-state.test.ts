import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_TXN_EVENTS, ALL_TXN_STATES, TransactionStateMachine, legalTransition, type TxnEvent, type TxnState } from '../../../../runtime/worker/transaction-state.ts';

/** Reach `state` through legal events from a fresh machine. */
const paths: Record<TxnState, TxnEvent[]> = {
  uninitialized: [],
  ready: ['init'],
  in_transaction: ['init', 'begin'],
  committing: ['init', 'begin', 'commit'],
  aborting: ['init', 'begin', 'abort'],
  failed: ['init', 'fail'],
  closed: ['close'],
};

for (const state of ALL_TXN_STATES) {
  for (const event of ALL_TXN_EVENTS) {
    const expected = legalTransition(state, event);
    test(`${event} in ${state} ${expected ? `→ ${expected}` : 'is rejected'}`, () => {
      const m = new TransactionStateMachine();
      for (const e of paths[state]) m.transition(e);
      assert.equal(m.state, state);
      if (expected) assert.equal(m.transition(event), expected);
      else assert.throws(() => m.transition(event), /illegal transaction transition/);
    });
  }
}

test('commit is only possible inside a transaction', () => {
  const m = new TransactionStateMachine();
  m.transition('init');
  assert.throws(() => m.transition('commit'));
  m.transition('begin');
  m.transition('commit');
  m.transition('committed');
  assert.equal(m.state, 'ready');
});
