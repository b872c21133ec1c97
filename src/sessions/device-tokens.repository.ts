import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

/** Device tokens, by the SHA-256 of the token (the token itself is never stored). */
@Injectable()
export class DeviceTokensRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(
    tokenHash: Buffer,
    userId: string,
    now: Date,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO device_tokens (token_hash, user_id, created_at, last_used_at, failed_logins)
       VALUES ($1, $2, $3, $3, 0)`,
      [tokenHash, userId, now],
    );
  }

  /**
   * Counts one failure against a live token of this user, atomically with the check that it has
   * fewer than `maxFailures` (the one that reaches it kills the token). False when the token is
   * not live, is not this user's, or has none left.
   */
  async takeAttempt(
    tokenHash: Buffer,
    userId: string,
    maxFailures: number,
    now: Date,
    idleSince: Date,
  ): Promise<boolean> {
    const [rows] = await this.dataSource.query<[unknown[], number]>(
      `UPDATE device_tokens
          SET failed_logins = failed_logins + 1,
              revoked_at = CASE WHEN failed_logins + 1 >= $3 THEN $4::timestamptz ELSE NULL END
        WHERE token_hash = $1 AND user_id = $2 AND revoked_at IS NULL
          AND failed_logins < $3 AND last_used_at > $5
        RETURNING failed_logins`,
      [tokenHash, userId, maxFailures, now, idleSince],
    );
    return rows.length === 1;
  }

  /** The token signed in: its count starts again and it is live once more. */
  async markUsed(tokenHash: Buffer, userId: string, now: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE device_tokens SET failed_logins = 0, revoked_at = NULL, last_used_at = $3
        WHERE token_hash = $1 AND user_id = $2`,
      [tokenHash, userId, now],
    );
  }

  /** Gives back one attempt `takeAttempt` counted (and the life it may have taken). */
  async giveBackAttempt(tokenHash: Buffer, userId: string, maxFailures: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE device_tokens SET failed_logins = GREATEST(failed_logins - 1, 0), revoked_at = NULL
        WHERE token_hash = $1 AND user_id = $2 AND failed_logins <= $3`,
      [tokenHash, userId, maxFailures],
    );
  }

  async isLive(tokenHash: Buffer, userId: string, idleSince: Date): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM device_tokens
        WHERE token_hash = $1 AND user_id = $2 AND revoked_at IS NULL AND last_used_at > $3`,
      [tokenHash, userId, idleSince],
    );
    return rows.length === 1;
  }
}
