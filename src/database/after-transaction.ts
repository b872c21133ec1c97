import {
  type EntityManager,
  EventSubscriber,
  type EntitySubscriberInterface,
  type QueryRunner,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
} from 'typeorm';

/** What runs when a transaction ends, by the query runner that carries it. */
const pending = new WeakMap<QueryRunner, (() => void)[]>();

/**
 * Runs `task` once the transaction `manager` belongs to has ended (committed or rolled back), or
 * at once when `manager` is in no transaction. For what this instance caches of a row the
 * transaction writes: forgotten before the commit, a concurrent read could cache the old row
 * again until it expires; forgotten after, the next read sees the new one.
 */
export function afterTransaction(manager: EntityManager, task: () => void): void {
  const runner = manager.queryRunner;
  if (!runner?.isTransactionActive) {
    task();
    return;
  }
  const tasks = pending.get(runner);
  if (tasks) {
    tasks.push(task);
  } else {
    pending.set(runner, [task]);
  }
}

/** Runs the tasks of a transaction that ended (not of a savepoint: the transaction goes on). */
function ended(runner: QueryRunner): void {
  if (runner.isTransactionActive) {
    return;
  }
  const tasks = pending.get(runner);
  pending.delete(runner);
  for (const task of tasks ?? []) {
    task();
  }
}

/**
 * The TypeORM subscriber behind afterTransaction; listed in the data source's `subscribers`.
 * A rolled-back transaction runs its tasks too: forgetting a cached row is always safe.
 */
@EventSubscriber()
export class AfterTransactionSubscriber implements EntitySubscriberInterface {
  afterTransactionCommit(event: TransactionCommitEvent): void {
    ended(event.queryRunner);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    ended(event.queryRunner);
  }
}
