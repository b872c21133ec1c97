import { describe, expect, it } from '@jest/globals';
import type { EntityManager, QueryRunner } from 'typeorm';
import { afterTransaction, AfterTransactionSubscriber } from './after-transaction.js';

/** A transaction as TypeORM's query runner reports it to subscribers. */
function transaction() {
  const state = { isTransactionActive: true };
  const runner = state as QueryRunner;
  const subscriber = new AfterTransactionSubscriber();
  const event = { queryRunner: runner } as never;
  return {
    manager: { queryRunner: runner } as EntityManager,
    /** A savepoint released: the transaction goes on. */
    release: () => subscriber.afterTransactionCommit(event),
    commit: () => {
      state.isTransactionActive = false;
      subscriber.afterTransactionCommit(event);
    },
    rollback: () => {
      state.isTransactionActive = false;
      subscriber.afterTransactionRollback(event);
    },
  };
}

describe('afterTransaction', () => {
  it('runs the tasks once, in order, when the transaction commits', () => {
    const tx = transaction();
    const ran: string[] = [];
    afterTransaction(tx.manager, () => ran.push('a'));
    afterTransaction(tx.manager, () => ran.push('b'));
    expect(ran).toEqual([]);
    tx.release();
    expect(ran).toEqual([]);
    tx.commit();
    expect(ran).toEqual(['a', 'b']);
    tx.commit();
    expect(ran).toEqual(['a', 'b']);
  });

  it('runs them when the transaction rolls back too', () => {
    const tx = transaction();
    let ran = 0;
    afterTransaction(tx.manager, () => (ran += 1));
    tx.rollback();
    expect(ran).toBe(1);
  });

  it('runs a task at once outside a transaction', () => {
    let ran = 0;
    afterTransaction({ queryRunner: undefined } as EntityManager, () => (ran += 1));
    afterTransaction(
      { queryRunner: { isTransactionActive: false } } as EntityManager,
      () => (ran += 1),
    );
    expect(ran).toBe(2);
  });

  it('keeps the tasks of one transaction apart from another', () => {
    const one = transaction();
    const two = transaction();
    const ran: string[] = [];
    afterTransaction(one.manager, () => ran.push('one'));
    afterTransaction(two.manager, () => ran.push('two'));
    two.commit();
    expect(ran).toEqual(['two']);
    one.commit();
    expect(ran).toEqual(['two', 'one']);
  });
});
