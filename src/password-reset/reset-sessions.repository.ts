import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, IsNull } from 'typeorm';
import { ResetSessionEntity } from './reset-session.entity.js';

/** Why a reset session ended (besides expiring). */
export type ResetFinishReason = 'completed' | 'too_many_codes' | 'user_disabled' | 'email_changed';

/**
 * The reset sessions a link opens. The updates that decide the flow's outcome are conditional
 * and atomic (a try taken only while one is left, a session finished only once); they run as
 * plain SQL so that their conditions are in one place and stay exactly as written.
 */
@Injectable()
export class ResetSessionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private manager(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  private sessions(manager?: EntityManager) {
    return this.manager(manager).getRepository(ResetSessionEntity);
  }

  async insert(
    session: Omit<ResetSessionEntity, 'id' | 'user'>,
    manager?: EntityManager,
  ): Promise<void> {
    await this.sessions(manager).insert(session);
  }

  findByToken(tokenHash: Buffer): Promise<ResetSessionEntity | null> {
    return this.sessions().findOneBy({ tokenHash });
  }

  /** Keeps the authenticator secret offered during the reset until a code proves it. */
  async keepPendingSecret(id: string, sealed: string): Promise<void> {
    await this.sessions().update({ id }, { pendingSecretSealed: sealed });
  }

  /** Ends every unfinished reset session of the user (its pending secret goes with it). */
  async finishAllOf(
    userId: string,
    reason: ResetFinishReason,
    at: Date,
    manager?: EntityManager,
  ): Promise<void> {
    await this.sessions(manager).update(
      { userId, finishedAt: IsNull() },
      { finishedAt: at, finishReason: reason, pendingSecretSealed: null },
    );
  }

  /**
   * Finishes a live, 2FA-verified session as completed, conditionally: of two concurrent
   * completions one finds it finished. False when it was not live and verified.
   */
  async finishCompleted(id: string, at: Date, manager?: EntityManager): Promise<boolean> {
    const [, finished] = await this.manager(manager).query<[unknown[], number]>(
      `UPDATE password_reset_sessions SET finished_at = $2, finish_reason = 'completed', pending_secret_sealed = NULL
        WHERE id = $1 AND finished_at IS NULL AND expires_at > $2 AND two_factor_verified_at IS NOT NULL`,
      [id, at],
    );
    return finished === 1;
  }

  /** Ends the session because of too many wrong codes (unless it already ended). */
  async finishForWrongCodes(id: string, at: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE password_reset_sessions SET finished_at = $2, finish_reason = 'too_many_codes', pending_secret_sealed = NULL
        WHERE id = $1 AND finished_at IS NULL`,
      [id, at],
    );
  }

  /**
   * Takes one of the session's code tries, atomically with the check that one is left (the row
   * is updated only while the session is live and under `max`); returns its number, or null
   * when none is left or the session ended.
   */
  async takeCodeTry(id: string, max: number, now: Date): Promise<number | null> {
    const [rows] = await this.dataSource.query<[{ failed_codes: number }[], number]>(
      `UPDATE password_reset_sessions SET failed_codes = failed_codes + 1
        WHERE id = $1 AND failed_codes < $2 AND finished_at IS NULL AND expires_at > $3
        RETURNING failed_codes`,
      [id, max, now],
    );
    return rows[0]?.failed_codes ?? null;
  }

  /** The try was not spent on a wrong code. */
  async giveBackCodeTry(id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE password_reset_sessions SET failed_codes = failed_codes - 1 WHERE id = $1 AND failed_codes > 0`,
      [id],
    );
  }

  /** The code was right: the 2FA step is done, and the code's try is given back. */
  async markTwoFactorVerified(id: string, at: Date, manager?: EntityManager): Promise<void> {
    await this.manager(manager).query(
      `UPDATE password_reset_sessions
          SET two_factor_verified_at = $2, pending_secret_sealed = NULL,
              failed_codes = GREATEST(failed_codes - 1, 0)
        WHERE id = $1`,
      [id, at],
    );
  }
}
