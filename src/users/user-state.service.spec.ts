import { describe, expect, it } from '@jest/globals';
import type { EntityManager, QueryRunner } from 'typeorm';
import {
  type ClusterEvent,
  type ClusterEvents,
  SHARED_STATE_CACHE_TTL_MS,
} from '../cluster/cluster-events.service.js';
import { Clock } from '../common/clock.js';
import { AfterTransactionSubscriber } from '../database/after-transaction.js';
import type {
  TwoFactorChangeHook,
  TwoFactorEnrolment,
} from '../two-factor/two-factor-enrolment.service.js';
import { UserStateService } from './user-state.service.js';
import type { UserSnapshot, UsersRepository } from './users.repository.js';

class FixedClock extends Clock {
  constructor(public ms = Date.UTC(2026, 0, 1)) {
    super();
  }
  override now(): Date {
    return new Date(this.ms);
  }
}

function snapshotOf(overrides: Partial<UserSnapshot> = {}): UserSnapshot {
  return {
    id: 'u1',
    username: 'ada',
    email: 'ada@example.com',
    emailVerified: true,
    pendingEmail: null,
    roles: ['user'],
    locale: null,
    twoFactorEnabled: false,
    mustChangePassword: false,
    createdAt: new Date('2025-01-01T00:00:00Z'),
    passwordChangedAt: new Date('2025-01-01T00:00:00Z'),
    disabled: false,
    pendingEmailExpiresAt: null,
    ...overrides,
  };
}

/** A promise the test settles by hand: a database read still under way. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function setup() {
  const clock = new FixedClock();
  /** What the database holds now; each read answers it (or waits on `next`, when set). */
  let row: UserSnapshot | null = snapshotOf();
  let next: Promise<UserSnapshot | null> | undefined;
  const reads: Date[] = [];
  const repository = {
    snapshot: (_id: string, now: Date) => {
      reads.push(now);
      const answer = next ?? Promise.resolve(row);
      next = undefined;
      return answer;
    },
  } as unknown as UsersRepository;
  const published: ClusterEvent[] = [];
  let userChanged: ((event: { userId: string }) => void) | undefined;
  let resync: (() => void) | undefined;
  const cluster = {
    hearing: true,
    on: (kind: string, handler: (event: { userId: string }) => void) => {
      if (kind === 'user_changed') {
        userChanged = handler;
      }
    },
    onResync: (handler: () => void) => (resync = handler),
    publish: (_m: EntityManager, event: ClusterEvent) => {
      published.push(event);
      return Promise.resolve();
    },
  } as unknown as ClusterEvents;
  let twoFactorChanged: TwoFactorChangeHook | undefined;
  const enrolment = {
    onChange: (hook: TwoFactorChangeHook) => (twoFactorChanged = hook),
  } as unknown as TwoFactorEnrolment;
  const service = new UserStateService(repository, cluster, clock, enrolment);
  return {
    service,
    clock,
    reads,
    published,
    setRow: (r: UserSnapshot | null) => (row = r),
    setNext: (p: Promise<UserSnapshot | null>) => {
      next = p;
    },
    hearUserChanged: (userId: string) => userChanged?.({ userId }),
    resync: () => resync?.(),
    /** Whether the instance listens to the others (ClusterEvents.hearing). */
    setHearing: (hearing: boolean) => {
      (cluster as { hearing: boolean }).hearing = hearing;
    },
    twoFactorChanged: (m: EntityManager, userId: string) => twoFactorChanged?.(m, userId),
  };
}

/** A manager inside a transaction, and how the transaction ends (as TypeORM reports it). */
function transaction() {
  const state = { isTransactionActive: true };
  const runner = state as QueryRunner;
  const manager = { queryRunner: runner } as EntityManager;
  const subscriber = new AfterTransactionSubscriber();
  return {
    manager,
    commit: () => {
      state.isTransactionActive = false;
      subscriber.afterTransactionCommit({ queryRunner: runner } as never);
    },
  };
}

describe('UserStateService', () => {
  it("answers the guard's state and the profile from one read while it is cached (under a second), and reads again after", async () => {
    const { service, clock, reads } = setup();
    expect(await service.authState('u1')).toEqual({
      username: 'ada',
      roles: ['user'],
      disabled: false,
      mustChangePassword: false,
      locale: null,
    });
    expect(await service.snapshot('u1')).toEqual(snapshotOf());
    expect(SHARED_STATE_CACHE_TTL_MS).toBeLessThan(1000);
    clock.ms += SHARED_STATE_CACHE_TTL_MS - 1;
    await service.snapshot('u1');
    expect(reads).toHaveLength(1);
    clock.ms += 1;
    await service.snapshot('u1');
    expect(reads).toHaveLength(2);
  });

  it('reads every time while it cannot hear the other instances, and caches again after', async () => {
    const { service, reads, resync, setHearing } = setup();
    await service.snapshot('u1');
    setHearing(false);
    resync(); // the listening connection was lost
    await service.snapshot('u1');
    await service.authState('u1');
    expect(reads).toHaveLength(3);
    setHearing(true);
    resync(); // listening again
    await service.snapshot('u1');
    await service.authState('u1');
    expect(reads).toHaveLength(4);
  });

  it('remembers that a user does not exist, briefly', async () => {
    const { service, setRow, reads } = setup();
    setRow(null);
    expect(await service.authState('u1')).toBeNull();
    expect(await service.snapshot('u1')).toBeNull();
    expect(reads).toHaveLength(1);
  });

  it('reads again once the pending address has expired, and not before', async () => {
    const { service, clock, setRow, reads } = setup();
    setRow(
      snapshotOf({
        pendingEmail: 'new@example.com',
        pendingEmailExpiresAt: new Date(clock.ms + 500),
      }),
    );
    expect((await service.snapshot('u1'))?.pendingEmail).toBe('new@example.com');
    setRow(snapshotOf());
    clock.ms += 499;
    expect((await service.snapshot('u1'))?.pendingEmail).toBe('new@example.com');
    clock.ms += 1;
    expect((await service.snapshot('u1'))?.pendingEmail).toBeNull();
    expect(reads).toHaveLength(2);
  });

  it('forgets the user when the changing transaction ends, not before, and tells the others', async () => {
    const { service, setRow, published, reads } = setup();
    await service.snapshot('u1');
    const tx = transaction();
    setRow(snapshotOf({ locale: 'zh-CN' }));
    await service.changedIn(tx.manager, 'u1');
    expect(published).toEqual([{ kind: 'user_changed', userId: 'u1' }]);
    // Before the commit, the old state is still the committed one.
    expect((await service.snapshot('u1'))?.locale).toBeNull();
    tx.commit();
    expect((await service.snapshot('u1'))?.locale).toBe('zh-CN');
    expect(reads).toHaveLength(2);
  });

  it('forgets at once a change made outside a transaction', async () => {
    const { service, setRow } = setup();
    await service.snapshot('u1');
    setRow(snapshotOf({ roles: ['admin'] }));
    await service.changedIn({ queryRunner: undefined } as EntityManager, 'u1');
    expect((await service.authState('u1'))?.roles).toEqual(['admin']);
  });

  it('does not cache what a read that began before a change answers', async () => {
    const { service, setRow, setNext, reads } = setup();
    const slow = deferred<UserSnapshot | null>();
    setNext(slow.promise);
    const early = service.snapshot('u1');
    // The change commits while the read is under way; the read saw the old row.
    setRow(snapshotOf({ disabled: true }));
    service.forget('u1');
    slow.resolve(snapshotOf());
    expect((await early)?.disabled).toBe(false);
    expect((await service.authState('u1'))?.disabled).toBe(true);
    expect(reads).toHaveLength(2);
  });

  it('shares one read between concurrent misses', async () => {
    const { service, reads } = setup();
    const [a, b] = await Promise.all([service.authState('u1'), service.snapshot('u1')]);
    expect(a?.username).toBe('ada');
    expect(b?.username).toBe('ada');
    expect(reads).toHaveLength(1);
  });

  it("follows other instances' changes, a resync, and 2FA turned on or off", async () => {
    const { service, setRow, hearUserChanged, resync, twoFactorChanged, published } = setup();
    await service.snapshot('u1');
    setRow(snapshotOf({ username: 'ada2' }));
    hearUserChanged('u1');
    expect((await service.snapshot('u1'))?.username).toBe('ada2');

    setRow(snapshotOf({ username: 'ada3' }));
    resync();
    expect((await service.snapshot('u1'))?.username).toBe('ada3');

    const tx = transaction();
    setRow(snapshotOf({ username: 'ada3', twoFactorEnabled: true }));
    await twoFactorChanged(tx.manager, 'u1');
    expect(published).toEqual([{ kind: 'user_changed', userId: 'u1' }]);
    tx.commit();
    expect((await service.snapshot('u1'))?.twoFactorEnabled).toBe(true);
  });
});
