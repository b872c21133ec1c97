import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, IsNull } from 'typeorm';
import { RefreshTokenEntity } from './refresh-token.entity.js';
import { SessionEntity } from './session.entity.js';

/** What the access-token check needs to know of a session. */
export interface SessionLiveness {
  userId: string;
  revoked: boolean;
  expiresAt: Date;
}

/**
 * Sessions and their refresh tokens (a session is one refresh-token family). Pass the manager of
 * the transaction where there is one (embedded PGlite has a single session).
 */
@Injectable()
export class SessionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private sessions(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(SessionEntity);
  }

  private tokens(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(RefreshTokenEntity);
  }

  insert(
    session: Omit<SessionEntity, 'id' | 'user'>,
    manager?: EntityManager,
  ): Promise<SessionEntity> {
    return this.sessions(manager).save(session);
  }

  findById(id: string, manager?: EntityManager): Promise<SessionEntity | null> {
    return this.sessions(manager).findOneBy({ id });
  }

  /** When a session was signed in and how. */
  async describe(id: string): Promise<{ amr: string[]; createdAt: Date } | null> {
    const session = await this.sessions().findOne({
      select: { amr: true, createdAt: true },
      where: { id },
    });
    return session ? { amr: session.amr, createdAt: session.createdAt } : null;
  }

  async extend(id: string, expiresAt: Date, manager?: EntityManager): Promise<void> {
    await this.sessions(manager).update({ id }, { expiresAt });
  }

  async addRefreshToken(
    token: Omit<RefreshTokenEntity, 'session'>,
    manager?: EntityManager,
  ): Promise<void> {
    await this.tokens(manager).insert(token);
  }

  findRefreshToken(tokenHash: Buffer, manager?: EntityManager): Promise<RefreshTokenEntity | null> {
    return this.tokens(manager).findOneBy({ tokenHash });
  }

  /**
   * Uses up a live refresh token, atomically with the check that it is unused and unexpired
   * (of two parallel uses, one wins). Returns its session's id, or null when it was not live.
   */
  async useRefreshToken(
    tokenHash: Buffer,
    now: Date,
    manager?: EntityManager,
  ): Promise<string | null> {
    // TypeORM's postgres driver answers an UPDATE with [rows, rowCount], not with the rows.
    const [claimed]: [{ session_id: string }[], number] = await (
      manager ?? this.dataSource.manager
    ).query(
      `UPDATE refresh_tokens SET used_at = $2
        WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
        RETURNING session_id`,
      [tokenHash, now],
    );
    return claimed[0]?.session_id ?? null;
  }

  /** Ends the live session a refresh token belongs to (logout); returns what it ended. */
  async finishByRefreshToken(
    tokenHash: Buffer,
    now: Date,
  ): Promise<{ sessionId: string; userId: string }[]> {
    // TypeORM's postgres driver answers an UPDATE with [rows, rowCount], not with the rows.
    const [rows]: [{ session_id: string; user_id: string }[], number] = await this.dataSource.query(
      `UPDATE sessions s SET revoked_at = $2, revoke_reason = 'logout'
         FROM refresh_tokens t
        WHERE t.token_hash = $1 AND t.session_id = s.id AND s.revoked_at IS NULL
        RETURNING s.id AS session_id, s.user_id`,
      [tokenHash, now],
    );
    return rows.map((r) => ({ sessionId: r.session_id, userId: r.user_id }));
  }

  /** The ids of the user's sessions not revoked yet. */
  async liveIdsOf(userId: string, manager?: EntityManager): Promise<string[]> {
    const live = await this.sessions(manager).find({
      select: { id: true },
      where: { userId, revokedAt: IsNull() },
    });
    return live.map((s) => s.id);
  }

  /** Revokes those of `ids` that are not revoked yet. */
  async revoke(ids: string[], reason: string, now: Date, manager?: EntityManager): Promise<void> {
    await (manager ?? this.dataSource.manager)
      .createQueryBuilder()
      .update(SessionEntity)
      .set({ revokedAt: now, revokeReason: reason })
      .where('id IN (:...ids) AND revoked_at IS NULL', { ids })
      .execute();
  }

  /**
   * A plain query: this runs for every authenticated request whose answer is not cached, so it
   * skips the ORM's hydration.
   */
  async liveness(sessionId: string): Promise<SessionLiveness | null> {
    const [session] = await this.dataSource.query<
      { user_id: string; revoked: boolean; expires_at: Date }[]
    >('SELECT user_id, revoked_at IS NOT NULL AS revoked, expires_at FROM sessions WHERE id = $1', [
      sessionId,
    ]);
    return session
      ? { userId: session.user_id, revoked: session.revoked, expiresAt: session.expires_at }
      : null;
  }
}
