import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, IsNull } from 'typeorm';
import { PreparedStatements } from '../database/prepared-statements.js';
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
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly prepared: PreparedStatements,
  ) {}

  private sessions(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(SessionEntity);
  }

  private tokens(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(RefreshTokenEntity);
  }

  /**
   * Starts a session with its first refresh token, in one statement (one round trip, atomic
   * without a transaction of its own). Returns the new session's id.
   */
  async start(
    session: Pick<SessionEntity, 'userId' | 'amr' | 'clientIp' | 'createdAt' | 'expiresAt'>,
    tokenHash: Buffer,
    manager?: EntityManager,
  ): Promise<string> {
    const [row] = await (manager ?? this.dataSource.manager).query<{ id: string }[]>(
      `WITH started AS (
         INSERT INTO sessions (user_id, amr, client_ip, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id)
       INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
       SELECT $6, id, $4, $5 FROM started
       RETURNING session_id AS id`,
      [
        session.userId,
        session.amr,
        session.clientIp,
        session.createdAt,
        session.expiresAt,
        tokenHash,
      ],
    );
    return row.id;
  }

  /**
   * Rotates a refresh token in one statement: uses it up if it is live (of two parallel uses, one
   * wins), and if its session is live too, extends the session to `min(nextExpiry,
   * created_at + maxLifetimeMs)` and adds `nextHash` as the session's next token.
   * Answers null when the token was not live (unknown, expired or already used: the caller
   * tells which); `session: null` when the token was used up but its session is over.
   */
  async rotate(
    tokenHash: Buffer,
    nextHash: Buffer,
    now: Date,
    nextExpiry: Date,
    maxLifetimeMs: number,
  ): Promise<{ session: { id: string; userId: string; amr: string[] } | null } | null> {
    // A prepared statement: on every refresh, PostgreSQL would otherwise parse and plan these
    // three statements again.
    const rows = await this.prepared.query<{
      claimed: string;
      id: string | null;
      user_id: string | null;
      amr: string[] | null;
    }>(
      'sessions_rotate',
      `WITH claimed AS (
         UPDATE refresh_tokens SET used_at = $2
          WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
          RETURNING session_id),
       extended AS (
         UPDATE sessions s
            SET expires_at = LEAST($4::timestamptz, s.created_at + $5::double precision * interval '1 millisecond')
           FROM claimed c
          WHERE s.id = c.session_id AND s.revoked_at IS NULL AND s.expires_at > $2
          RETURNING s.id, s.user_id, s.amr, s.expires_at),
       issued AS (
         INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
         SELECT $3, id, $2, expires_at FROM extended)
       SELECT c.session_id AS claimed, e.id, e.user_id, e.amr
         FROM claimed c LEFT JOIN extended e ON e.id = c.session_id`,
      [tokenHash, now, nextHash, nextExpiry, maxLifetimeMs],
    );
    const row = rows[0];
    if (!row) {
      return null;
    }
    return {
      session:
        row.id && row.user_id && row.amr ? { id: row.id, userId: row.user_id, amr: row.amr } : null,
    };
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

  findRefreshToken(tokenHash: Buffer, manager?: EntityManager): Promise<RefreshTokenEntity | null> {
    return this.tokens(manager).findOneBy({ tokenHash });
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
