import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, QueryFailedError } from 'typeorm';
import { AppError } from '../common/errors/app-error.js';
import type { Locale } from '../i18n/locales.js';
import { UserEntity } from './user.entity.js';

const UNIQUE_VIOLATION = '23505';

/** Maps the database's uniqueness verdict to the contract's codes: the index is the referee. */
function translateUniqueViolation(error: unknown): never {
  if (error instanceof QueryFailedError) {
    const driverError = error.driverError as { code?: string; constraint?: string };
    if (
      driverError.code === UNIQUE_VIOLATION &&
      driverError.constraint === 'users_username_lower_key'
    ) {
      throw new AppError('USERNAME_TAKEN', 'Another user already has this username.');
    }
    if (
      driverError.code === UNIQUE_VIOLATION &&
      driverError.constraint === 'users_email_lower_key'
    ) {
      throw new AppError('EMAIL_TAKEN', 'Another user already has this email address.');
    }
  }
  throw error;
}

export interface UserSearch {
  search?: string;
  page: number;
  pageSize: number;
}

/** A user with what the personal center shows beside it. */
export type ProfileRow = UserEntity & { twoFactorEnabled: boolean; pendingEmail: string | null };

/**
 * The user as every authenticated request and `GET /me` see it: what ProfileDto shows, and
 * whether the account is disabled. UserStateService caches it briefly.
 */
export interface UserSnapshot {
  id: string;
  username: string;
  email: string | null;
  emailVerified: boolean;
  /** The address waiting for confirmation: the user's live, unexpired link's. */
  pendingEmail: string | null;
  roles: string[];
  locale: Locale | null;
  twoFactorEnabled: boolean;
  mustChangePassword: boolean;
  createdAt: Date;
  passwordChangedAt: Date;
  disabled: boolean;
  /** When `pendingEmail`'s link expires, and with it this snapshot. */
  pendingEmailExpiresAt: Date | null;
}

interface RawProfile {
  id: string;
  username: string;
  email: string | null;
  email_verified: boolean;
  password_hash: string;
  must_change_password: boolean;
  roles: string[];
  disabled: boolean;
  locale: Locale | null;
  password_changed_at: Date;
  created_at: Date;
  updated_at: Date;
  two_factor_enabled: boolean;
  pending_email: string | null;
}

/** The one answer for a user that is not there. */
function found(user: UserEntity | null): UserEntity {
  if (!user) {
    throw new AppError('USER_NOT_FOUND', 'There is no user with this id.');
  }
  return user;
}

/** The users table. Only UsersModule uses this. */
@Injectable()
export class UsersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private users(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(UserEntity);
  }

  findById(id: string, manager?: EntityManager): Promise<UserEntity | null> {
    return this.users(manager).findOneBy({ id });
  }

  /** The user, or 404 USER_NOT_FOUND. */
  async getById(id: string, manager?: EntityManager): Promise<UserEntity> {
    return found(await this.findById(id, manager));
  }

  /**
   * What `GET /me` shows, in one plain query: the user, whether an authenticator is enabled and
   * the address waiting for confirmation. This is the hot path of the personal center, so it
   * reads the two-factor table directly rather than asking TwoFactorService (one round trip and
   * no ORM hydration instead of three of each).
   */
  async profile(id: string, now: Date): Promise<ProfileRow | null> {
    const rows = await this.dataSource.query<RawProfile[]>(
      `SELECT u.id, u.username, u.email, u.email_verified, u.password_hash, u.must_change_password,
              u.roles, u.disabled, u.locale, u.password_changed_at, u.created_at, u.updated_at,
              EXISTS (SELECT 1 FROM two_factor_credentials t
                       WHERE t.user_id = u.id AND t.enabled_at IS NOT NULL) AS two_factor_enabled,
              (SELECT v.email FROM email_verifications v
                WHERE v.user_id = u.id AND v.used_at IS NULL AND v.revoked_at IS NULL
                  AND v.expires_at > $2
                ORDER BY v.created_at DESC LIMIT 1) AS pending_email
         FROM users u WHERE u.id = $1`,
      [id, now],
    );
    const row = rows[0];
    return row
      ? {
          id: row.id,
          username: row.username,
          email: row.email,
          emailVerified: row.email_verified,
          passwordHash: row.password_hash,
          mustChangePassword: row.must_change_password,
          roles: row.roles,
          disabled: row.disabled,
          locale: row.locale,
          passwordChangedAt: row.password_changed_at,
          createdAt: row.created_at,
          updatedAt: row.updated_at,
          twoFactorEnabled: row.two_factor_enabled,
          pendingEmail: row.pending_email,
        }
      : null;
  }

  /**
   * What every authenticated request and `GET /me` need to know of the user (on a cache miss),
   * in one query: the row, whether an authenticator is enabled, and the address waiting for
   * confirmation with when its link expires (the same rules as `profile`).
   */
  async snapshot(id: string, now: Date): Promise<UserSnapshot | null> {
    const rows = await this.dataSource.query<UserSnapshot[]>(
      `SELECT u.id, u.username, u.email, u.email_verified AS "emailVerified",
              p.email AS "pendingEmail", u.roles, u.locale,
              EXISTS (SELECT 1 FROM two_factor_credentials t
                       WHERE t.user_id = u.id AND t.enabled_at IS NOT NULL) AS "twoFactorEnabled",
              u.must_change_password AS "mustChangePassword", u.created_at AS "createdAt",
              u.password_changed_at AS "passwordChangedAt", u.disabled,
              p.expires_at AS "pendingEmailExpiresAt"
         FROM users u
         LEFT JOIN LATERAL (SELECT v.email, v.expires_at FROM email_verifications v
                             WHERE v.user_id = u.id AND v.used_at IS NULL AND v.revoked_at IS NULL
                               AND v.expires_at > $2
                             ORDER BY v.created_at DESC LIMIT 1) p ON true
        WHERE u.id = $1`,
      [id, now],
    );
    return rows[0] ?? null;
  }

  /** Locks the row for the rest of the transaction, so concurrent changes take turns. */
  findByIdForUpdate(id: string, manager: EntityManager): Promise<UserEntity | null> {
    return this.users(manager)
      .createQueryBuilder('u')
      .setLock('pessimistic_write')
      .where('u.id = :id', { id })
      .getOne();
  }

  /** The user, its row locked for the rest of the transaction; or 404 USER_NOT_FOUND. */
  async lockById(id: string, manager: EntityManager): Promise<UserEntity> {
    return found(await this.findByIdForUpdate(id, manager));
  }

  /** A user by username or email, case-insensitively. Usernames cannot contain '@'. */
  findByLogin(identifier: string): Promise<UserEntity | null> {
    if (identifier.includes('\u0000')) {
      return Promise.resolve(null); // PostgreSQL text cannot hold U+0000: nobody has it.
    }
    const column = identifier.includes('@') ? 'email' : 'username';
    return this.users()
      .createQueryBuilder('u')
      .where(`lower(u.${column}) = lower(:identifier)`, { identifier })
      .getOne();
  }

  /** True when another user's bound address is `email` (case-insensitively). */
  async emailTakenByOther(
    email: string,
    userId: string,
    manager?: EntityManager,
  ): Promise<boolean> {
    const count = await this.users(manager)
      .createQueryBuilder('u')
      .where('lower(u.email) = lower(:email) AND u.id <> :userId', { email, userId })
      .getCount();
    return count > 0;
  }

  async search(query: UserSearch): Promise<{ items: UserEntity[]; total: number }> {
    if (query.search?.includes('\u0000')) {
      return { items: [], total: 0 }; // no stored text can contain U+0000 (PostgreSQL refuses it)
    }
    const qb = this.users().createQueryBuilder('u');
    if (query.search) {
      const pattern = `%${query.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.where('(lower(u.username) LIKE :pattern OR lower(u.email) LIKE :pattern)', { pattern });
    }
    const [items, total] = await qb
      .orderBy('u.createdAt', 'ASC')
      .addOrderBy('u.id', 'ASC')
      .skip((query.page - 1) * query.pageSize)
      .take(query.pageSize)
      .getManyAndCount();
    return { items, total };
  }

  async insert(user: Omit<UserEntity, 'id'>, manager: EntityManager): Promise<UserEntity> {
    try {
      return await this.users(manager).save(this.users(manager).create(user));
    } catch (error) {
      translateUniqueViolation(error);
    }
  }

  async update(
    id: string,
    changes: Partial<Omit<UserEntity, 'id'>>,
    manager: EntityManager,
  ): Promise<void> {
    try {
      await this.users(manager).update({ id }, changes);
    } catch (error) {
      translateUniqueViolation(error);
    }
  }

  /** Replaces the password hash only if it is still `oldHash`; false when it changed meanwhile. */
  async replaceHash(
    id: string,
    oldHash: string,
    newHash: string,
    manager: EntityManager,
  ): Promise<boolean> {
    const result = await this.users(manager).update(
      { id, passwordHash: oldHash },
      { passwordHash: newHash },
    );
    return (result.affected ?? 0) > 0;
  }

  async delete(id: string, manager: EntityManager): Promise<boolean> {
    const result = await this.users(manager).delete({ id });
    return (result.affected ?? 0) > 0;
  }

  /** The usernames of these users (ids of deleted users are simply missing). */
  async usernames(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) {
      return new Map();
    }
    const rows = await this.users()
      .createQueryBuilder('u')
      .select(['u.id', 'u.username'])
      .where('u.id IN (:...ids)', { ids })
      .getMany();
    return new Map(rows.map((u) => [u.id, u.username]));
  }

  async countAdmins(): Promise<number> {
    return this.users().createQueryBuilder('u').where(`'admin' = ANY(u.roles)`).getCount();
  }
}
