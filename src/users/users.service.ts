import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { AppError } from '../common/errors/app-error.js';
import type { Locale } from '../i18n/locales.js';
import { TwoFactorEnrolment } from '../two-factor/two-factor-enrolment.service.js';
import { type Provisioning, TwoFactorService } from '../two-factor/two-factor.service.js';
import { EmailVerificationsRepository } from './email-verifications.repository.js';
import { PasswordsService } from './passwords.service.js';
import type { UserEntity } from './user.entity.js';
import { type AuthState, UserStateService, type UserSnapshot } from './user-state.service.js';
import { UsersRepository } from './users.repository.js';

export type { AuthState, UserSnapshot } from './user-state.service.js';

/** Who is doing something, for the audit trail. */
export interface Actor {
  id: string | null;
  ip: string | null;
}

/**
 * A user as shown to admins and to themselves: the row, whether 2FA is on, and the address
 * waiting for confirmation, if any.
 */
export type UserView = UserEntity & { twoFactorEnabled: boolean; pendingEmail: string | null };

/** A change to an account after which what was started under its old state must end. */
export type AccountChange = 'user_disabled' | 'email_changed';

/**
 * Runs inside the transaction that disables a user or changes their email (e.g. to end a
 * password reset in progress: its link went to, or was meant for, the old state).
 */
export type AccountChangeHook = (
  manager: EntityManager,
  userId: string,
  change: AccountChange,
) => Promise<void>;

/**
 * A user account as the rest of the service sees it (lookups, the profile, the state every
 * request checks, changes other modules must follow) and as its owner manages it in the personal
 * center. Admins' changes are AdminUsersService's; passwords are PasswordsService's.
 */
@Injectable()
export class UsersService {
  private readonly changeHooks: AccountChangeHook[] = [];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly verifications: EmailVerificationsRepository,
    private readonly passwords: PasswordsService,
    private readonly userState: UserStateService,
    private readonly twoFactor: TwoFactorService,
    private readonly enrolment: TwoFactorEnrolment,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** Pass the transaction's manager inside a transaction (embedded PGlite has one session). */
  findById(id: string, manager?: EntityManager): Promise<UserEntity | null> {
    return this.users.findById(id, manager);
  }

  /** The user, its row locked until `m`'s transaction ends (changes to it wait); null if gone. */
  lockById(id: string, m: EntityManager): Promise<UserEntity | null> {
    return this.users.findByIdForUpdate(id, m);
  }

  findByLogin(identifier: string): Promise<UserEntity | null> {
    return this.users.findByLogin(identifier);
  }

  async get(id: string): Promise<UserView> {
    const profile = await this.users.profile(id, this.clock.now());
    if (!profile) {
      throw new AppError('USER_NOT_FOUND', 'There is no user with this id.');
    }
    return profile;
  }

  /**
   * `GET /me`: the signed-in user from the state the access-token guard has just read (a short
   * cache that every change of the user drops, on every instance).
   */
  async profile(id: string): Promise<UserSnapshot> {
    const snapshot = await this.userState.snapshot(id);
    if (!snapshot) {
      throw new AppError('USER_NOT_FOUND', 'There is no user with this id.');
    }
    return snapshot;
  }

  /**
   * The user's own language for pages and mails (null: not chosen). A preference, not a change
   * to the account's security: not audited. Every instance's cached state forgets the old one.
   */
  async setLocale(userId: string, locale: Locale | null): Promise<UserSnapshot> {
    await this.dataSource.transaction(async (m) => {
      const user = await this.users.lockById(userId, m);
      if (user.locale !== locale) {
        await this.users.update(userId, { locale, updatedAt: this.clock.now() }, m);
        await this.userState.changedIn(m, userId);
      }
    });
    return this.profile(userId);
  }

  /** For the access-token guard: the user's live state, from a short cache. */
  authState(userId: string): Promise<AuthState | null> {
    return this.userState.authState(userId);
  }

  /** Other modules end their own state of a user who is disabled or whose email changes. */
  onAccountChange(hook: AccountChangeHook): void {
    this.changeHooks.push(hook);
  }

  /** Runs every AccountChange hook inside the transaction that makes the change. */
  async accountChangedIn(m: EntityManager, userId: string, change: AccountChange): Promise<void> {
    for (const hook of this.changeHooks) {
      await hook(m, userId, change);
    }
  }

  /** The user changes their own password: every other session ends, this one stays. */
  async changeOwnPassword(
    userId: string,
    sessionId: string,
    currentPassword: string,
    newPassword: string,
    ip: string | null,
  ): Promise<void> {
    const user = await this.passwords.verifyOwn(userId, currentPassword, ip);
    await this.passwords.set(user, newPassword, 'newPassword', {
      temporary: false,
      revokeReason: 'password_changed',
      keepSessionId: sessionId,
      audit: { type: 'password.changed', actorId: userId, clientIp: ip, details: {} },
    });
  }

  /** Personal center: offer a new authenticator. */
  async startTwoFactorSetup(
    userId: string,
    currentPassword: string,
    ip: string | null,
  ): Promise<Provisioning> {
    return this.enrolment.startSetup(await this.passwords.verifyOwn(userId, currentPassword, ip));
  }

  /** Personal center: a code from the new authenticator turns 2FA on; returns recovery codes. */
  async confirmTwoFactorSetup(userId: string, code: string, ip: string | null): Promise<string[]> {
    return this.enrolment.confirmSetup(await this.users.getById(userId), code, ip);
  }

  /** Personal center: turning 2FA off takes the password and a current code (or a recovery code). */
  async disableTwoFactor(
    userId: string,
    currentPassword: string,
    code: string,
    ip: string | null,
  ): Promise<void> {
    const user = await this.passwords.verifyOwn(userId, currentPassword, ip);
    if (!(await this.twoFactor.isEnabled(userId))) {
      throw new AppError('TWO_FACTOR_NOT_ENABLED', 'Two-factor authentication is not on.');
    }
    if (
      !(await this.twoFactor.verify(user, code, {
        ip,
        flowId: null,
        how: 'turnOffTwoFactor',
      }))
    ) {
      throw new AppError('INVALID_TOTP_CODE', 'The code is not valid.');
    }
    await this.enrolment.disable(user, 'byUser', { id: userId, ip });
  }

  /**
   * Binds an address its owner has just proven, inside the caller's transaction: `email` and
   * `emailVerified`, and when the address changes, every AccountChange hook (live reset links and
   * open reset sessions end). Returns the user as it was before.
   */
  async bindVerifiedEmailIn(m: EntityManager, userId: string, email: string): Promise<UserEntity> {
    const user = await this.users.lockById(userId, m);
    await this.users.update(userId, { email, emailVerified: true, updatedAt: this.clock.now() }, m);
    if (user.email !== email) {
      await this.accountChangedIn(m, userId, 'email_changed');
    }
    await this.userState.changedIn(m, userId);
    return user;
  }

  /**
   * Kills the user's live confirmation link, inside the caller's transaction; a change that was
   * still waiting for its confirmation is recorded as cancelled, with why.
   */
  async cancelPendingEmailIn(
    m: EntityManager,
    userId: string,
    actor: Actor,
    reason: 'cancelled' | 'email_set_by_admin' | 'user_disabled',
  ): Promise<void> {
    const now = this.clock.now();
    const revoked = await this.verifications.revokeLiveLinks(userId, now, m);
    if (revoked.length > 0) {
      await this.userState.changedIn(m, userId); // `pendingEmail`
    }
    const pending = revoked.find((v) => v.expiresAt > now);
    if (pending) {
      await this.audit.record(
        {
          type: 'email.change_cancelled',
          actorId: actor.id,
          subjectId: userId,
          clientIp: actor.ip,
          details: { email: pending.email, reason },
        },
        m,
      );
    }
  }
}
