import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuditDetails } from '../audit/audit-event.entity.js';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { AppError } from '../common/errors/app-error.js';
import type { Locale } from '../i18n/locales.js';
import { LoginThrottle } from '../rate-limit/login-throttle.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { TwoFactorEnrolment } from '../two-factor/two-factor-enrolment.service.js';
import { TwoFactorService } from '../two-factor/two-factor.service.js';
import { verifiedAfterAdminChange } from './email-rules.js';
import { EmailVerificationsRepository } from './email-verifications.repository.js';
import { PasswordsService } from './passwords.service.js';
import type { UserEntity } from './user.entity.js';
import { UserStateService } from './user-state.service.js';
import { UsersRepository, type UserSearch } from './users.repository.js';
import { type Actor, UsersService, type UserView } from './users.service.js';

export interface NewUser {
  username: string;
  password: string;
  email?: string | null;
  /** An admin vouches for the address unless false. */
  emailVerified?: boolean;
  roles?: string[];
  locale?: Locale | null;
  temporaryPassword?: boolean;
}

export interface UserChanges {
  email?: string | null;
  emailVerified?: boolean;
  roles?: string[];
  disabled?: boolean;
  locale?: Locale | null;
}

function sameRoles(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

/** What admins do to users: create, list, change, disable, delete, set a password, reset 2FA. */
@Injectable()
export class AdminUsersService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: UsersRepository,
    private readonly verifications: EmailVerificationsRepository,
    private readonly users: UsersService,
    private readonly passwords: PasswordsService,
    private readonly userState: UserStateService,
    private readonly sessions: SessionsService,
    private readonly twoFactor: TwoFactorService,
    private readonly enrolment: TwoFactorEnrolment,
    private readonly audit: AuditService,
    private readonly loginThrottle: LoginThrottle,
    private readonly clock: Clock,
  ) {}

  async create(input: NewUser, actor: Actor): Promise<UserView> {
    const passwordHash = await this.passwords.prepare(
      { username: input.username, email: input.email ?? null },
      input.password,
      'password',
    );
    // An address an admin sets is bound at once, and verified unless they say otherwise.
    const emailVerified = verifiedAfterAdminChange(
      { email: null, emailVerified: false },
      input.email ?? null,
      input.emailVerified,
    );
    const now = this.clock.now();
    return this.dataSource.transaction(async (m) => {
      const user = await this.repository.insert(
        {
          username: input.username,
          email: input.email ?? null,
          emailVerified,
          passwordHash,
          mustChangePassword: input.temporaryPassword ?? true,
          roles: input.roles ?? [],
          disabled: false,
          locale: input.locale ?? null,
          passwordChangedAt: now,
          createdAt: now,
          updatedAt: now,
        },
        m,
      );
      await this.passwords.rememberIn(m, user.id, passwordHash, now);
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
    const { items, total } = await this.repository.search(query);
    const ids = items.map((u) => u.id);
    const enabled = await this.twoFactor.enabledAmong(ids);
    const pending = await this.verifications.pendingEmails(ids, this.clock.now());
    return {
      items: items.map((u) => ({
        ...u,
        twoFactorEnabled: enabled.has(u.id),
        pendingEmail: pending.get(u.id) ?? null,
      })),
      total,
    };
  }

  get(id: string): Promise<UserView> {
    return this.users.get(id);
  }

  /** Usernames by id, to name the actors and subjects of audit events (deleted users are missing). */
  usernames(ids: string[]): Promise<Map<string, string>> {
    return this.repository.usernames([...new Set(ids)]);
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
      const user = await this.repository.lockById(id, m);
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
      if (changes.locale !== undefined && changes.locale !== user.locale) {
        patch.locale = changes.locale;
        fields.push('locale');
        details.locale = { from: user.locale, to: changes.locale };
      }
      if (changes.disabled !== undefined && changes.disabled !== user.disabled) {
        patch.disabled = changes.disabled;
        fields.push('disabled');
        details.disabled = { from: user.disabled, to: changes.disabled };
      }
      if (fields.length === 0) {
        return user;
      }
      await this.repository.update(id, patch, m);
      if (patch.disabled === true) {
        await this.sessions.revokeAllForUser(id, 'user_disabled', m);
        await this.users.accountChangedIn(m, id, 'user_disabled');
      }
      // A new address, or one no longer vouched for: what was sent to the old one must die.
      if (patch.email !== undefined || patch.emailVerified === false) {
        await this.users.accountChangedIn(m, id, 'email_changed');
      }
      // The admin's address replaces a change the user has not confirmed yet; a disabled user's
      // confirmation link must not work once they are enabled again.
      if (patch.email !== undefined || patch.disabled === true) {
        await this.users.cancelPendingEmailIn(
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
      await this.userState.changedIn(m, id);
      return { ...user, ...patch };
    });
    return this.view(updated);
  }

  async delete(id: string, actor: Actor): Promise<void> {
    if (actor.id === id) {
      throw new AppError('SELF_LOCKOUT', 'You cannot delete your own account.');
    }
    await this.dataSource.transaction(async (m) => {
      const user = await this.repository.lockById(id, m);
      // Sessions go with the user (ON DELETE CASCADE); revoking first also clears the caches.
      await this.sessions.revokeAllForUser(id, 'user_disabled', m);
      await this.repository.delete(id, m);
      await this.userState.changedIn(m, id);
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
  }

  /** An admin sets a user's password: every session of the user ends. */
  async setPassword(id: string, password: string, temporary: boolean, actor: Actor): Promise<void> {
    const user = await this.repository.getById(id);
    await this.passwords.set(user, password, 'password', {
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

  /** An admin removes a user's authenticator (the way back for a user who lost it). */
  async resetTwoFactor(id: string, actor: Actor): Promise<void> {
    await this.enrolment.disable(await this.repository.getById(id), 'byAdmin', actor);
  }

  /** Creates the first admin when no admin exists yet. Returns what was created, if anything. */
  async ensureBootstrapAdmin(username: string, password: string): Promise<UserEntity | null> {
    if ((await this.repository.countAdmins()) > 0) {
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

  private async view(user: UserEntity): Promise<UserView> {
    const pending = await this.verifications.pendingEmails([user.id], this.clock.now());
    return {
      ...user,
      twoFactorEnabled: await this.twoFactor.isEnabled(user.id),
      pendingEmail: pending.get(user.id) ?? null,
    };
  }
}
