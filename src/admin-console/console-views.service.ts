import { Injectable } from '@nestjs/common';
import type { AuditEventEntity } from '../audit/audit-event.entity.js';
import { AuditService } from '../audit/audit.service.js';
import { type Locale, LOCALE_NAMES } from '../i18n/locales.js';
import type { ClientView } from '../oidc/oidc-clients.service.js';
import { PasswordPolicyService } from '../password-policy/password-policy.service.js';
import { AdminUsersService } from '../users/admin-users.service.js';
import type { UserView } from '../users/users.service.js';

/** Times as the console shows them: UTC, to the second. */
export function shownTime(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export interface Pager {
  page: number;
  lastPage: number;
  total: number;
  previous: string | null;
  next: string | null;
}

/** Links to the previous and next pages of a list, keeping its filters. */
export function pager(
  path: string,
  filters: Record<string, string | undefined>,
  page: number,
  pageSize: number,
  total: number,
): Pager {
  const lastPage = Math.max(1, Math.ceil(total / pageSize));
  const href = (target: number) => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(filters)) {
      if (value) {
        params.set(name, value);
      }
    }
    if (target > 1) {
      params.set('page', String(target));
    }
    const query = params.toString();
    return query ? `${path}?${query}` : path;
  };
  return {
    page,
    lastPage,
    total,
    previous: page > 1 ? href(Math.min(page - 1, lastPage)) : null,
    next: page < lastPage ? href(page + 1) : null,
  };
}

export interface UserRow {
  id: string;
  username: string;
  email: string | null;
  emailVerified: boolean;
  pendingEmail: string | null;
  roles: string;
  /** The language the user chose, and its name; null: not chosen. */
  locale: Locale | null;
  localeName: string | null;
  isAdmin: boolean;
  disabled: boolean;
  twoFactorEnabled: boolean;
  mustChangePassword: boolean;
  createdAt: string;
  passwordChangedAt: string;
}

export interface AuditRow {
  occurredAt: string;
  type: string;
  actor: { id: string; name: string | null } | null;
  subject: { id: string; name: string | null } | null;
  clientIp: string | null;
  details: string | null;
}

/** What the console's templates show of users, events, clients and the password policy. */
@Injectable()
export class ConsoleViews {
  constructor(
    private readonly users: AdminUsersService,
    private readonly audit: AuditService,
    private readonly policy: PasswordPolicyService,
  ) {}

  user(u: UserView): UserRow {
    return {
      id: u.id,
      username: u.username,
      email: u.email,
      emailVerified: u.emailVerified,
      pendingEmail: u.pendingEmail,
      roles: u.roles.join(', '),
      locale: u.locale,
      localeName: u.locale ? LOCALE_NAMES[u.locale] : null,
      isAdmin: u.roles.includes('admin'),
      disabled: u.disabled,
      twoFactorEnabled: u.twoFactorEnabled,
      mustChangePassword: u.mustChangePassword,
      createdAt: shownTime(u.createdAt),
      passwordChangedAt: shownTime(u.passwordChangedAt),
    };
  }

  /** The password policy's rules, those `broken` marked. */
  passwordRules(broken: string[] = []): { description: string; broken: boolean }[] {
    const marked = new Set(broken);
    return this.policy
      .describe()
      .rules.map((r) => ({ description: r.description, broken: marked.has(r.rule) }));
  }

  /** A page of audit events, with the usernames of their actors and subjects. */
  async auditPage(query: {
    userId?: string;
    type?: string;
    page: number;
    pageSize: number;
  }): Promise<{ rows: AuditRow[]; total: number }> {
    const { items, total } = await this.audit.list(query);
    return { rows: await this.auditRows(items), total };
  }

  client(c: ClientView): Record<string, unknown> {
    return {
      clientId: c.clientId,
      name: c.name,
      redirectUris: c.redirectUris,
      postLogoutRedirectUris: c.postLogoutRedirectUris,
      redirectUrisText: c.redirectUris.join('\n'),
      postLogoutRedirectUrisText: c.postLogoutRedirectUris.join('\n'),
      isPublic: c.isPublic,
      firstParty: c.firstParty,
      createdAt: shownTime(c.createdAt),
      updatedAt: shownTime(c.updatedAt),
    };
  }

  private async auditRows(events: AuditEventEntity[]): Promise<AuditRow[]> {
    const ids = events.flatMap((e) => [e.actorId, e.subjectId]).filter((id) => id !== null);
    const names = await this.users.usernames(ids);
    const who = (id: string | null) => (id ? { id, name: names.get(id) ?? null } : null);
    return events.map((e) => {
      const details = e.details as Record<string, unknown>;
      return {
        occurredAt: shownTime(e.occurredAt),
        type: e.type,
        actor: who(e.actorId),
        subject: who(e.subjectId),
        clientIp: e.clientIp,
        details: Object.keys(details).length > 0 ? JSON.stringify(details) : null,
      };
    });
  }
}
