import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuditDetails } from '../audit/audit-event.entity.js';
import { AuditService } from '../audit/audit.service.js';
import { ClusterEvents } from '../cluster/cluster-events.service.js';
import { Clock } from '../common/clock.js';
import { AppError } from '../common/errors/app-error.js';
import { TtlCache } from '../common/ttl-cache.js';
import type { Settings } from '../config/settings.js';
import { PasswordHasher } from '../password-policy/password-hasher.service.js';
import { PasswordPolicyService } from '../password-policy/password-policy.service.js';
import { ACCOUNT_POLICY } from '../rate-limit/backoff-policy.js';
import { AttemptLimiter } from '../rate-limit/attempt-limiter.service.js';
import { accountKey, LoginThrottle } from '../rate-limit/login-throttle.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { TwoFactorEnrolment } from '../two-factor/two-factor-enrolment.service.js';
import { TwoFactorService, type Provisioning } from '../two-factor/two-factor.service.js';
import { verifiedAfterAdminChange } from './email-rules.js';
import type { UserEntity } from './user.entity.js';
import { UsersRepository, type UserSearch } from './users.repository.js';

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

export interface NewUser {
  username: string;
  password: string;
  email?: string | null;
  /** An admin vouches for the address unless false. */
  emailVerified?: boolean;
  roles?: string[];
  temporaryPassword?: boolean;
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

export interface UserChanges {
  email?: string | null;
  emailVerified?: boolean;
  roles?: string[];
  disabled?: boolean;
}

/** What every authenticated request needs to know about its user, cached briefly. */
export interface AuthState {
  username: string;
  roles: string[];
  disabled: boolean;
  mustChangePassword: boolean;
}

const AUTH_STATE_TTL_MS = 2000;

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

function sameRoles(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

@Injectable()
export class UsersService {
  private readonly authStates = new TtlCache<string, AuthState | null>(AUTH_STATE_TTL_MS, 50_000);
  private readonly historySize: number;
  private readonly changeHooks: AccountChangeHook[] = [];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicyService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly limiter: AttemptLimiter,
    private readonly loginThrottle: LoginThrottle,
    private readonly cluster: ClusterEvents,
    private readonly twoFactor: TwoFactorService,
    private readonly enrolment: TwoFactorEnrolment,
    private readonly clock: Clock,
    config: ConfigService<Settings, true>,
  ) {
    this.historySize = config.get('password', { infer: true }).history;
    // Changes made by other instances reach this one's cache through the database.
    cluster.on('user_changed', (event) => this.authStates.delete(event.userId));
    cluster.onResync(() => this.authStates.clear());
  }

  /** Other instances forget their cached state of the user when `m` commits. */
  private async stateChanged(m: EntityManager, userId: string): Promise<void> {
    await this.cluster.publish(m, { kind: 'user_changed', userId });
  }

  /** Other modules end their own state of a user who is disabled or whose email changes. */

  onAccountChange(hook: AccountChangeHook): void {
    this.changeHooks.push(hook);
  }

  private async accountChanged(
    m: EntityManager,
    userId: string,
    change: AccountChange,
  ): Promise<void> {
    for (const hook of this.changeHooks) {
      await hook(m, userId, change);
    }
  }

  async create(input: NewUser, actor: Actor): Promise<UserView> {
    await this.policy.assertAcceptable(
      input.password,
      { username: input.username, email: input.email },
      'password',
    );
    // An address an admin sets is bound at once, and verified unless they say otherwise.
    const emailVerified = verifiedAfterAdminChange(
      { email: null, emailVerified: false },
      input.email ?? null,
      input.emailVerified,
    );
    const passwordHash = await this.hasher.hash(input.password);
    const now = this.clock.now();
    return this.dataSource.transaction(async (m) => {
      const user = await this.users.insert(
        {
          username: input.username,
          email: input.email ?? null,
          emailVerified,
          passwordHash,
          mustChangePassword: input.temporaryPassword ?? true,
          roles: input.roles ?? [],
          disabled: false,
          passwordChangedAt: now,
          createdAt: now,
          updatedAt: now,
        },
        m,
      );
      await this.users.addPasswordHistory(user.id, passwordHash, now, this.historySize, m);
      await this.audit.record(
        {
          type: 'user.created',
          actorId: actor.id,
          subjectId: user.id,
          clientIp: actor.ip,
          details: { username: user.username, roles: user.roles },
        },
        m,
      );
      return { ...user, twoFactorEnabled: false, pendingEmail: null };
    });
  }

  async list(query: UserSearch): Promise<{ items: UserView[]; total: number }> {
    const { items, total } = await this.users.search(query);
    const ids = items.map((u) => u.id);
    const enabled = await this.twoFactor.enabledAmong(ids);
    const pending = await this.users.pendingEmails(ids, this.clock.now());
    return {
      items: items.map((u) => ({
        ...u,
        twoFactorEnabled: enabled.has(u.id),
        pendingEmail: pending.get(u.id) ?? null,
      })),
      total,
    };
  }

  async get(id: string): Promise<UserView> {
    const profile = await this.users.profile(id, this.clock.now());
    if (!profile) {
      throw new AppError('USER_NOT_FOUND', 'There is no user with this id.');
    }
    return profile;
  }

  /** Personal center: offer a new authenticator. */
  async startTwoFactorSetup(
    userId: string,
    currentPassword: string,
    ip: string | null,
  ): Promise<Provisioning> {
    return this.enrolment.startSetup(await this.verifyOwnPassword(userId, currentPassword, ip));
  }

  /** Personal center: a code from the new authenticator turns 2FA on; returns recovery codes. */
  async confirmTwoFactorSetup(userId: string, code: string, ip: string | null): Promise<string[]> {
    return this.enrolment.confirmSetup(await this.getEntity(userId), code, ip);
  }

  /** Personal center: turning 2FA off takes the password and a current code (or a recovery code). */
  async disableTwoFactor(
    userId: string,
    currentPassword: string,
    code: string,
    ip: string | null,
  ): Promise<void> {
    const user = await this.verifyOwnPassword(userId, currentPassword, ip);
    if (!(await this.twoFactor.isEnabled(userId))) {
      throw new AppError('TWO_FACTOR_NOT_ENABLED', 'Two-factor authentication is not on.');
    }
    if (
      !(await this.twoFactor.verify(user, code, {
        ip,
        flowId: null,
        how: 'to turn off two-factor authentication',
      }))
    ) {
      throw new AppError('INVALID_TOTP_CODE', 'The code is not valid.');
    }
    await this.enrolment.disable(user, 'by you', { id: userId, ip });
  }

  /** An admin removes a user's authenticator (the way back for a user who lost it). */
  async resetTwoFactorByAdmin(id: string, actor: Actor): Promise<void> {
    await this.enrolment.disable(await this.getEntity(id), 'by an administrator', actor);
  }

  private async getEntity(id: string): Promise<UserEntity> {
    const user = await this.users.findById(id);
    if (!user) {
      throw new AppError('USER_NOT_FOUND', 'There is no user with this id.');
    }
    return user;
  }

  private async view(user: UserEntity): Promise<UserView> {
    const pending = await this.users.pendingEmails([user.id], this.clock.now());
    return {
      ...user,
      twoFactorEnabled: await this.twoFactor.isEnabled(user.id),
      pendingEmail: pending.get(user.id) ?? null,
    };
  }

  /** Pass the transaction's manager inside a transaction (embedded PGlite has one session). */
  findById(id: string, manager?: EntityManager): Promise<UserEntity | null> {
    return this.users.findById(id, manager);
  }

  findByLogin(identifier: string): Promise<UserEntity | null> {
    return this.users.findByLogin(identifier);
  }

  async update(id: string, changes: UserChanges, actor: Actor): Promise<UserView> {
    if (
      actor.id === id &&
      (changes.disabled === true || (changes.roles && !changes.roles.includes('admin')))
    ) {
      throw new AppError(
        'SELF_LOCKOUT',
        'You cannot disable your own account or remove your own admin role.',
      );
    }
    const updated = await this.dataSource.transaction(async (m) => {
      const user = await this.lockOrThrow(id, m);
      const patch: Partial<UserEntity> = { updatedAt: this.clock.now() };
      // Only what really changes is written, announced and audited.
      const details: AuditDetails = {};
      const fields: string[] = [];
      if (changes.email !== undefined && changes.email !== user.email) {
        patch.email = changes.email;
        fields.push('email');
      }
      const verified = verifiedAfterAdminChange(user, patch.email, changes.emailVerified);
      if (verified !== user.emailVerified) {
        patch.emailVerified = verified;
        fields.push('emailVerified');
        details.emailVerified = { from: user.emailVerified, to: verified };
      }
      if (changes.roles !== undefined && !sameRoles(changes.roles, user.roles)) {
        patch.roles = changes.roles;
        fields.push('roles');
        details.roles = { from: user.roles, to: changes.roles };
      }
      if (changes.disabled !== undefined && changes.disabled !== user.disabled) {
        patch.disabled = changes.disabled;
        fields.push('disabled');
        details.disabled = { from: user.disabled, to: changes.disabled };
      }
      if (fields.length === 0) {
        return user;
      }
      await this.users.update(id, patch, m);
      if (patch.disabled === true) {
        await this.sessions.revokeAllForUser(id, 'user_disabled', m);
        await this.accountChanged(m, id, 'user_disabled');
      }
      // A new address, or one no longer vouched for: what was sent to the old one must die.
      if (patch.email !== undefined || patch.emailVerified === false) {
        await this.accountChanged(m, id, 'email_changed');
      }
      // The admin's address replaces a change the user has not confirmed yet; a disabled user's
      // confirmation link must not work once they are enabled again.
      if (patch.email !== undefined || patch.disabled === true) {
        await this.cancelPendingEmailIn(
          m,
          id,
          actor,
          patch.email !== undefined ? 'email_set_by_admin' : 'user_disabled',
        );
      }
      const type =
        patch.disabled === true
          ? 'user.disabled'
          : patch.disabled === false
            ? 'user.enabled'
            : 'user.updated';
      await this.audit.record(
        {
          type,
          actorId: actor.id,
          subjectId: id,
          clientIp: actor.ip,
          details: { fields, ...details },
        },
        m,
      );
      await this.stateChanged(m, id);
      return { ...user, ...patch };
    });
    this.authStates.delete(id);
    return this.view(updated);
  }

  async delete(id: string, actor: Actor): Promise<void> {
    if (actor.id === id) {
      throw new AppError('SELF_LOCKOUT', 'You cannot delete your own account.');
    }
    await this.dataSource.transaction(async (m) => {
      const user = await this.lockOrThrow(id, m);
      // Sessions go with the user (ON DELETE CASCADE); revoking first also clears the caches.
      await this.sessions.revokeAllForUser(id, 'user_disabled', m);
      await this.users.delete(id, m);
      await this.stateChanged(m, id);
      await this.audit.record(
        {
          type: 'user.deleted',
          actorId: actor.id,
          subjectId: id,
          clientIp: actor.ip,
          details: { username: user.username },
        },
        m,
      );
    });
    this.authStates.delete(id);
  }

  /** An admin sets a user's password: every session of the user ends. */
  async setPasswordByAdmin(
    id: string,
    password: string,
    temporary: boolean,
    actor: Actor,
  ): Promise<void> {
    const user = await this.getEntity(id);
    await this.setPassword(user, password, 'password', {
      temporary,
      revokeReason: 'admin_password_reset',
      audit: {
        type: 'user.password_reset_by_admin',
        actorId: actor.id,
        clientIp: actor.ip,
        details: { temporary },
      },
    });
    // The owner (or whoever the admin hands the password to) can sign in at once.
    await this.loginThrottle.clearAccount(user);
  }

  /** The user changes their own password: every other session ends, this one stays. */
  async changeOwnPassword(
    userId: string,
    sessionId: string,
    currentPassword: string,
    newPassword: string,
    ip: string | null,
  ): Promise<void> {
    const user = await this.verifyOwnPassword(userId, currentPassword, ip);
    await this.setPassword(user, newPassword, 'newPassword', {
      temporary: false,
      revokeReason: 'password_changed',
      keepSessionId: sessionId,
      audit: { type: 'password.changed', actorId: userId, clientIp: ip, details: {} },
    });
  }

  /**
   * Binds an address its owner has just proven, inside the caller's transaction: `email` and
   * `emailVerified`, and when the address changes, every AccountChange hook (live reset links and
   * open reset sessions end). Returns the user as it was before.
   */
  async bindVerifiedEmailIn(m: EntityManager, userId: string, email: string): Promise<UserEntity> {
    const user = await this.lockOrThrow(userId, m);
    await this.users.update(userId, { email, emailVerified: true, updatedAt: this.clock.now() }, m);
    if (user.email !== email) {
      await this.accountChanged(m, userId, 'email_changed');
    }
    await this.stateChanged(m, userId);
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
    const revoked = await this.users.revokeEmailVerifications(userId, now, m);
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

  /** Checks a password; for no user it spends a real verify's time and answers false. */
  async passwordMatches(user: UserEntity | null, password: string): Promise<boolean> {
    if (!user) {
      await this.hasher.verifyDummy(password);
      return false;
    }
    return this.hasher.verify(user.passwordHash, password);
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

  /** Replaces a stored hash made with older argon2 parameters (called after a good sign-in). */
  async upgradeHashIfNeeded(user: UserEntity, password: string): Promise<void> {
    if (!this.hasher.needsRehash(user.passwordHash)) {
      return;
    }
    const passwordHash = await this.hasher.hash(password);
    await this.dataSource.transaction(async (m) => {
      await this.users.update(user.id, { passwordHash }, m);
      await m.query(
        `UPDATE password_history SET password_hash = $3 WHERE user_id = $1 AND password_hash = $2`,
        [user.id, user.passwordHash, passwordHash],
      );
    });
  }

  /** Creates the first admin when no admin exists yet. Returns what was created, if anything. */
  async ensureBootstrapAdmin(username: string, password: string): Promise<UserEntity | null> {
    if ((await this.users.countAdmins()) > 0) {
      return null;
    }
    try {
      return await this.create(
        { username, password, roles: ['admin'], temporaryPassword: false },
        { id: null, ip: null },
      );
    } catch (error) {
      // Another replica created it first.
      if (error instanceof AppError && error.code === 'USERNAME_TAKEN') {
        return null;
      }
      throw error;
    }
  }

  /**
   * Checks the user's own password (changing password or email, turning 2FA on or off). The attempt
   * counts against the account before the password is checked, so parallel guesses share the
   * account's allowance; a right password is taken back.
   */
  async verifyOwnPassword(
    userId: string,
    password: string,
    ip: string | null,
  ): Promise<UserEntity> {
    const attempt = await this.limiter.reserve([
      { key: accountKey(userId), policy: ACCOUNT_POLICY },
    ]);
    let user: UserEntity;
    let matches: boolean;
    try {
      user = await this.getEntity(userId);
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

  private async setPassword(
    user: UserEntity,
    password: string,
    field: string,
    options: PasswordChangeOptions,
  ): Promise<void> {
    const passwordHash = await this.preparePassword(user, password, field);
    await this.dataSource.transaction(async (m: EntityManager) => {
      await this.applyPasswordIn(m, user.id, passwordHash, options);
    });
  }

  /**
   * Checks a new password against the policy (history included) and hashes it. Slow (argon2), so
   * it runs before the transaction that applies it.
   */
  async preparePassword(user: UserEntity, password: string, field: string): Promise<string> {
    const recent = await this.users.recentPasswordHashes(user.id, this.historySize);
    await this.policy.assertAcceptable(
      password,
      { username: user.username, email: user.email },
      field,
      recent,
    );
    return this.hasher.hash(password);
  }

  /**
   * Sets a prepared password hash inside the caller's transaction: history, sessions revoked
   * (but `keepSessionId`), audit. Returns the locked user as it now is; refuses a disabled one
   * when `requireEnabled`.
   */
  async applyPasswordIn(
    m: EntityManager,
    userId: string,
    passwordHash: string,
    options: PasswordChangeOptions,
  ): Promise<UserEntity> {
    const user = await this.lockOrThrow(userId, m);
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
    await this.users.addPasswordHistory(userId, passwordHash, now, this.historySize, m);
    await this.sessions.revokeAllForUser(userId, options.revokeReason, m, options.keepSessionId);
    await this.audit.record({ ...options.audit, subjectId: userId }, m);
    await this.stateChanged(m, userId);
    this.authStates.delete(userId);
    return { ...user, ...changes };
  }

  private async lockOrThrow(id: string, m: EntityManager): Promise<UserEntity> {
    const user = await this.users.findByIdForUpdate(id, m);
    if (!user) {
      throw new AppError('USER_NOT_FOUND', 'There is no user with this id.');
    }
    return user;
  }
}
