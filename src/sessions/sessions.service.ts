import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { ClusterEvents, SHARED_STATE_CACHE_TTL_MS } from '../cluster/cluster-events.service.js';
import { Clock } from '../common/clock.js';
import { randomToken, sha256 } from '../common/crypto/tokens.js';
import { ReadThroughCache } from '../common/read-through-cache.js';
import type { Settings } from '../config/settings.js';
import { type SessionLiveness, SessionsRepository } from './sessions.repository.js';

export type RevokeReason =
  | 'logout'
  | 'password_changed'
  | 'password_reset'
  | 'admin_password_reset'
  | 'user_disabled'
  | 'refresh_token_reuse';

export interface IssuedSession {
  sessionId: string;
  refreshToken: string;
}

export type RotationResult =
  | { outcome: 'rotated'; sessionId: string; userId: string; amr: string[]; refreshToken: string }
  | { outcome: 'reused'; sessionId: string; userId: string }
  | { outcome: 'invalid' };

interface SessionState {
  userId: string;
  active: boolean;
  expiresAt: number;
}

const INACTIVE: SessionState = { userId: '', active: false, expiresAt: 0 };

function stateOf(session: SessionLiveness | null): SessionState {
  return session
    ? { userId: session.userId, active: !session.revoked, expiresAt: session.expiresAt.getTime() }
    : INACTIVE;
}

/** Sessions (refresh-token families) and their rotation, revocation and liveness checks. */
@Injectable()
export class SessionsService {
  /**
   * Liveness by session id. A revocation by this process takes effect at once (`forget`), one by
   * another instance when its notification arrives, and in any case within the cache's lifetime
   * (SHARED_STATE_CACHE_TTL_MS, under a second) should the notification be lost.
   */
  private readonly liveness = new ReadThroughCache<string, SessionState>(
    SHARED_STATE_CACHE_TTL_MS,
    50_000,
  );
  private readonly refreshTtlMs: number;
  private readonly maxLifetimeMs: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: SessionsRepository,
    private readonly clock: Clock,
    private readonly cluster: ClusterEvents,
    config: ConfigService<Settings, true>,
  ) {
    // Revocations by other instances reach this one's cache through the database.
    cluster.on('sessions_revoked', (event) => this.forget(event.ids));
    cluster.onResync(() => this.liveness.clear());
    const tokens = config.get('tokens', { infer: true });
    this.refreshTtlMs = tokens.refreshTtl * 1000;
    this.maxLifetimeMs = tokens.sessionMaxLifetime * 1000;
  }

  /**
   * When a session signed in at `createdAt` ends if it is not refreshed again: one refresh-token
   * lifetime from now, but never later than SESSION_MAX_LIFETIME after sign-in.
   */
  private expiryFrom(now: Date, createdAt: Date): Date {
    return new Date(
      Math.min(now.getTime() + this.refreshTtlMs, createdAt.getTime() + this.maxLifetimeMs),
    );
  }

  /** Starts a session and hands out its first refresh token. */
  async create(
    userId: string,
    amr: string[],
    clientIp: string | null,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<IssuedSession> {
    const now = this.clock.now();
    const expiresAt = this.expiryFrom(now, now);
    const refreshToken = randomToken();
    const sessionId = await this.repository.start(
      { userId, amr, clientIp, createdAt: now, expiresAt },
      sha256(refreshToken),
      manager,
    );
    return { sessionId, refreshToken };
  }

  /**
   * Exchanges a refresh token for the next one. A token is good once: presenting a token that
   * was already rotated means it leaked, so the whole session is revoked.
   *
   * The common case (a live token of a live session) is one statement; only a token that was
   * not live takes the transaction that tells a reused token from an unknown one.
   */
  async rotate(refreshToken: string): Promise<RotationResult> {
    const hash = sha256(refreshToken);
    const now = this.clock.now();
    const next = randomToken();
    const rotated = await this.repository.rotate(
      hash,
      sha256(next),
      now,
      new Date(now.getTime() + this.refreshTtlMs),
      this.maxLifetimeMs,
    );
    if (rotated) {
      return rotated.session
        ? {
            outcome: 'rotated',
            sessionId: rotated.session.id,
            userId: rotated.session.userId,
            amr: rotated.session.amr,
            refreshToken: next,
          }
        : { outcome: 'invalid' };
    }
    const result = await this.dataSource.transaction(async (manager): Promise<RotationResult> => {
      const known = await this.repository.findRefreshToken(hash, manager);
      if (!known?.usedAt) {
        return { outcome: 'invalid' };
      }
      const session = await this.repository.findById(known.sessionId, manager);
      if (!session) {
        return { outcome: 'invalid' };
      }
      await this.revokeIn(manager, [session.id], 'refresh_token_reuse', now);
      return { outcome: 'reused', sessionId: session.id, userId: session.userId };
    });
    if (result.outcome === 'reused') {
      this.forget([result.sessionId]);
    }
    return result;
  }

  /** Ends the session a refresh token belongs to (logout). Unknown tokens are ignored. */
  async revokeByRefreshToken(
    refreshToken: string,
  ): Promise<{ sessionId: string; userId: string } | null> {
    const ended = await this.repository.finishByRefreshToken(
      sha256(refreshToken),
      this.clock.now(),
    );
    const ids = ended.map((s) => s.sessionId);
    this.forget(ids);
    if (ids.length > 0) {
      await this.cluster.publish(this.dataSource.manager, { kind: 'sessions_revoked', ids });
    }
    return ended[0] ?? null;
  }

  /** Revokes every live session of a user, but `exceptSessionId` if given. */
  async revokeAllForUser(
    userId: string,
    reason: RevokeReason,
    manager: EntityManager = this.dataSource.manager,
    exceptSessionId?: string,
  ): Promise<number> {
    const live = await this.repository.liveIdsOf(userId, manager);
    const ids = live.filter((id) => id !== exceptSessionId);
    await this.revokeIn(manager, ids, reason, this.clock.now());
    this.forget(ids);
    return ids.length;
  }

  /**
   * Whether the session behind an access token is still live. Answers come from a short cache;
   * revocations by this process are seen at once.
   */
  async isActive(sessionId: string, userId: string): Promise<boolean> {
    const nowMs = this.clock.now().getTime();
    const read = () => this.repository.liveness(sessionId).then(stateOf);
    const state = this.cluster.hearing
      ? this.liveness.get(sessionId, nowMs, read)
      : // While another instance's revocation could go unheard, every check reads the database.
        read();
    const { active, userId: owner, expiresAt } = await state;
    return active && owner === userId && expiresAt > nowMs;
  }

  /** When a session was signed in and how (for OpenID Connect's auth_time and amr). */
  describe(sessionId: string): Promise<{ amr: string[]; createdAt: Date } | null> {
    return this.repository.describe(sessionId);
  }

  private async revokeIn(
    manager: EntityManager,
    ids: string[],
    reason: RevokeReason,
    now: Date,
  ): Promise<void> {
    if (ids.length === 0) {
      return;
    }
    await this.repository.revoke(ids, reason, now, manager);
    await this.cluster.publish(manager, { kind: 'sessions_revoked', ids });
  }

  /** Marks sessions revoked in this process's cache right away (fail-safe on rollback). */
  private forget(ids: string[]): void {
    const nowMs = this.clock.now().getTime();
    for (const id of ids) {
      this.liveness.set(id, INACTIVE, nowMs);
    }
  }
}
