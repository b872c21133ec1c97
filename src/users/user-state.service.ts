import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ClusterEvents } from '../cluster/cluster-events.service.js';
import { Clock } from '../common/clock.js';
import { TtlCache } from '../common/ttl-cache.js';
import { afterTransaction } from '../database/after-transaction.js';
import type { Locale } from '../i18n/locales.js';
import { TwoFactorEnrolment } from '../two-factor/two-factor-enrolment.service.js';
import { UsersRepository } from './users.repository.js';

/** What every authenticated request needs to know about its user, cached briefly. */
export interface AuthState {
  username: string;
  roles: string[];
  disabled: boolean;
  mustChangePassword: boolean;
  /** The language the user chose (pages follow it after `?lang=` and its cookie). */
  locale: Locale | null;
}

const AUTH_STATE_TTL_MS = 2000;

/**
 * The user's live state as every authenticated request reads it, from a short cache, and the
 * announcement that makes every instance drop it when the user changes.
 */
@Injectable()
export class UserStateService {
  private readonly authStates = new TtlCache<string, AuthState | null>(AUTH_STATE_TTL_MS, 50_000);

  constructor(
    private readonly users: UsersRepository,
    private readonly cluster: ClusterEvents,
    private readonly clock: Clock,
    enrolment: TwoFactorEnrolment,
  ) {
    // Changes made by other instances reach this one's cache through the database.
    cluster.on('user_changed', (event) => this.authStates.delete(event.userId));
    cluster.onResync(() => this.authStates.clear());
    // Whether 2FA is on is part of what the personal center shows of the user.
    enrolment.onChange((m, userId) => this.changedIn(m, userId));
  }

  /** For the access-token guard: the user's live state, from a short cache. */
  async authState(userId: string): Promise<AuthState | null> {
    const nowMs = this.clock.now().getTime();
    const cached = this.authStates.get(userId, nowMs);
    if (cached !== undefined) {
      return cached;
    }
    const state = await this.users.authState(userId);
    this.authStates.set(userId, state, nowMs);
    return state;
  }

  /**
   * Inside the transaction that changes the user: other instances forget their cached state of
   * the user when it commits, this one when it ends (not before: a request in between would
   * cache the old state again).
   */
  async changedIn(m: EntityManager, userId: string): Promise<void> {
    await this.cluster.publish(m, { kind: 'user_changed', userId });
    afterTransaction(m, () => this.forget(userId));
  }

  /** This instance forgets its cached state of the user. */
  forget(userId: string): void {
    this.authStates.delete(userId);
  }
}
