import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ClusterEvents, SHARED_STATE_CACHE_TTL_MS } from '../cluster/cluster-events.service.js';
import { Clock } from '../common/clock.js';
import { ReadThroughCache } from '../common/read-through-cache.js';
import { afterTransaction } from '../database/after-transaction.js';
import type { Locale } from '../i18n/locales.js';
import { TwoFactorEnrolment } from '../two-factor/two-factor-enrolment.service.js';
import { type UserSnapshot, UsersRepository } from './users.repository.js';

export type { UserSnapshot } from './users.repository.js';

/** What every authenticated request needs to know about its user, cached briefly. */
export interface AuthState {
  username: string;
  roles: string[];
  disabled: boolean;
  mustChangePassword: boolean;
  /** The language the user chose (pages follow it after `?lang=` and its cookie). */
  locale: Locale | null;
}

/** A cached user: the snapshot, and the guard's part of it. */
interface CachedUser {
  snapshot: UserSnapshot;
  auth: AuthState;
}

function cachedUser(snapshot: UserSnapshot | null): CachedUser | null {
  if (!snapshot) {
    return null;
  }
  const { username, roles, disabled, mustChangePassword, locale } = snapshot;
  return { snapshot, auth: { username, roles, disabled, mustChangePassword, locale } };
}

/**
 * The user's live state as every authenticated request (and `GET /me`) reads it, from a short
 * cache, and the announcement that makes every instance drop it when the user changes.
 *
 * Whatever changes a field of the snapshot (the users row, the authenticator, the address waiting
 * for confirmation) calls `changedIn` inside its transaction: this instance forgets the user when
 * the transaction ends, the others when they hear of it. A read that began before the change is
 * not cached; a snapshot whose pending address has expired meanwhile is read again.
 */
@Injectable()
export class UserStateService {
  /** By user id; a change here or on another instance forgets it (`forget`). */
  private readonly states = new ReadThroughCache<string, CachedUser | null>(
    SHARED_STATE_CACHE_TTL_MS,
    50_000,
  );

  constructor(
    private readonly repository: UsersRepository,
    private readonly cluster: ClusterEvents,
    private readonly clock: Clock,
    enrolment: TwoFactorEnrolment,
  ) {
    // Changes made by other instances reach this one's cache through the database.
    cluster.on('user_changed', (event) => this.forget(event.userId));
    cluster.onResync(() => this.states.clear());
    // Whether 2FA is on is part of the snapshot.
    enrolment.onChange((m, userId) => this.changedIn(m, userId));
  }

  /** For the access-token guard: the user's live state, from a short cache. */
  async authState(userId: string): Promise<AuthState | null> {
    return (await this.cached(userId))?.auth ?? null;
  }

  /** `GET /me`: the user as the guard has just seen them, from the same cache. */
  async snapshot(userId: string): Promise<UserSnapshot | null> {
    return (await this.cached(userId))?.snapshot ?? null;
  }

  /**
   * Inside the transaction that changes the user: other instances forget their cached state of
   * the user when it commits, this one when it ends.
   */
  async changedIn(m: EntityManager, userId: string): Promise<void> {
    await this.cluster.publish(m, { kind: 'user_changed', userId });
    afterTransaction(m, () => this.forget(userId));
  }

  /** This instance forgets its cached state of the user, and what a read under way will say. */
  forget(userId: string): void {
    this.states.forget(userId);
  }

  private cached(userId: string): Promise<CachedUser | null> {
    const now = this.clock.now();
    const read = () => this.repository.snapshot(userId, now).then(cachedUser);
    if (!this.cluster.hearing) {
      // Another instance's change would go unheard: every request reads the database.
      return read();
    }
    // A snapshot whose pending address has expired since it was read is read again.
    return this.states.get(userId, now.getTime(), read, (hit) => {
      const expiresAt = hit?.snapshot.pendingEmailExpiresAt;
      return !(expiresAt && expiresAt <= now);
    });
  }
}
