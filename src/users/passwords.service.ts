import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuditDetails } from '../audit/audit-event.entity.js';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { AppError } from '../common/errors/app-error.js';
import type { Settings } from '../config/settings.js';
import { PasswordHasher } from '../password-policy/password-hasher.service.js';
import { PasswordPolicyService } from '../password-policy/password-policy.service.js';
import { AttemptLimiter } from '../rate-limit/attempt-limiter.service.js';
import { ACCOUNT_POLICY } from '../rate-limit/backoff-policy.js';
import { accountKey } from '../rate-limit/login-throttle.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { PasswordHistoryRepository } from './password-history.repository.js';
import type { UserEntity } from './user.entity.js';
import { UserStateService } from './user-state.service.js';
import { UsersRepository } from './users.repository.js';

/** Whose password it is: what the policy compares it with. No id yet for a user being created. */
export interface PasswordOwner {
  id?: string;
  username: string;
  email: string | null;
}

export interface PasswordChangeOptions {
  temporary: boolean;
  revokeReason: 'password_changed' | 'admin_password_reset' | 'password_reset';
  keepSessionId?: string;
  requireEnabled?: boolean;
  audit: {
    type: 'password.changed' | 'user.password_reset_by_admin';
    actorId: string | null;
    clientIp: string | null;
    flowId?: string | null;
    details: AuditDetails;
  };
}

/**
 * Passwords: checking one (sign-in, or the user's own before a sensitive change), and setting
 * one the same way wherever it is set (policy and history, the hash, sessions revoked, audit).
 */
@Injectable()
export class PasswordsService {
  private readonly historySize: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly history: PasswordHistoryRepository,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicyService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly limiter: AttemptLimiter,
    private readonly userState: UserStateService,
    private readonly clock: Clock,
    config: ConfigService<Settings, true>,
  ) {
    this.historySize = config.get('password', { infer: true }).history;
  }

  /** Checks a password; for no user it spends a real verify's time and answers false. */
  async matches(user: UserEntity | null, password: string): Promise<boolean> {
    if (!user) {
      await this.hasher.verifyDummy(password);
      return false;
    }
    return this.hasher.verify(user.passwordHash, password);
  }

  /**
   * Replaces a stored hash made with older argon2 parameters (called after a good sign-in), unless
   * the password was changed since it was checked: the new password stays.
   */
  async upgradeHashIfNeeded(user: UserEntity, password: string): Promise<void> {
    if (!this.hasher.needsRehash(user.passwordHash)) {
      return;
    }
    const passwordHash = await this.hasher.hash(password);
    await this.dataSource.transaction(async (m) => {
      if (await this.users.replaceHash(user.id, user.passwordHash, passwordHash, m)) {
        await this.history.replaceHash(user.id, user.passwordHash, passwordHash, m);
      }
    });
  }

  /**
   * Checks the user's own password (changing password or email, turning 2FA on or off). The attempt
   * counts against the account before the password is checked, so parallel guesses share the
   * account's allowance; a right password is taken back.
   */
  async verifyOwn(userId: string, password: string, ip: string | null): Promise<UserEntity> {
    const attempt = await this.limiter.reserve([
      { key: accountKey(userId), policy: ACCOUNT_POLICY },
    ]);
    let user: UserEntity;
    let matches: boolean;
    try {
      user = await this.users.getById(userId);
      matches = await this.hasher.verify(user.passwordHash, password);
    } catch (error) {
      await attempt.refund();
      throw error;
    }
    if (!matches) {
      await this.audit.record({
        type: 'login.failed',
        actorId: userId,
        subjectId: userId,
        clientIp: ip,
        details: { reason: 'wrong_current_password' },
      });
      throw new AppError('INVALID_CREDENTIALS', 'The current password is not correct.');
    }
    await attempt.refund();
    return user;
  }

  /** Checks and sets a user's new password in a transaction of its own. */
  async set(
    user: UserEntity,
    password: string,
    field: string,
    options: PasswordChangeOptions,
  ): Promise<void> {
    const passwordHash = await this.prepare(user, password, field);
    await this.dataSource.transaction(async (m: EntityManager) => {
      await this.applyIn(m, user.id, passwordHash, options);
    });
  }

  /**
   * Checks a new password against the policy (the owner's history included) and hashes it. Slow
   * (argon2), so it runs before the transaction that applies it.
   */
  async prepare(owner: PasswordOwner, password: string, field: string): Promise<string> {
    const recent = owner.id ? await this.history.recent(owner.id, this.historySize) : [];
    await this.policy.assertAcceptable(
      password,
      { username: owner.username, email: owner.email },
      field,
      recent,
    );
    return this.hasher.hash(password);
  }

  /** Remembers a new user's first password hash, inside the caller's transaction. */
  async rememberIn(
    m: EntityManager,
    userId: string,
    passwordHash: string,
    at: Date,
  ): Promise<void> {
    await this.history.add(userId, passwordHash, at, this.historySize, m);
  }

  /**
   * Sets a prepared password hash inside the caller's transaction: history, sessions revoked
   * (but `keepSessionId`), audit. Returns the locked user as it now is; refuses a disabled one
   * when `requireEnabled`.
   */
  async applyIn(
    m: EntityManager,
    userId: string,
    passwordHash: string,
    options: PasswordChangeOptions,
  ): Promise<UserEntity> {
    const user = await this.users.lockById(userId, m);
    if (options.requireEnabled && user.disabled) {
      throw new AppError(
        'ACCOUNT_DISABLED',
        'This account is disabled. Contact your administrator.',
      );
    }
    const now = this.clock.now();
    const changes = {
      passwordHash,
      passwordChangedAt: now,
      mustChangePassword: options.temporary,
      updatedAt: now,
    };
    await this.users.update(userId, changes, m);
    await this.history.add(userId, passwordHash, now, this.historySize, m);
    await this.sessions.revokeAllForUser(userId, options.revokeReason, m, options.keepSessionId);
    await this.audit.record({ ...options.audit, subjectId: userId }, m);
    await this.userState.changedIn(m, userId);
    return { ...user, ...changes };
  }
}
