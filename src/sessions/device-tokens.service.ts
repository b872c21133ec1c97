import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import { randomToken, sha256 } from '../common/crypto/tokens.js';

/** Wrong passwords a device token survives; the next one kills it (the account's lockout then applies). */
export const DEVICE_TOKEN_MAX_FAILURES = 5;
/** A device not signed in from for this long is forgotten. */
export const DEVICE_TOKEN_IDLE_DAYS = 180;

/** A login attempt counted against a device token (see `reserve`). */
export interface DeviceAttempt {
  token: string;
  userId: string;
}

/**
 * Device tokens, issued on a full sign-in. An attacker who knows only a username can lock the
 * account for logins without one, but not for its owner's devices: each device token has its
 * own failure count, taken atomically before the password is checked.
 */
@Injectable()
export class DeviceTokensService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** A new device token for a user who just signed in fully; pass the manager inside a transaction. */
  async issue(userId: string, manager: EntityManager = this.dataSource.manager): Promise<string> {
    const token = randomToken();
    const now = this.clock.now();
    await manager.query(
      `INSERT INTO device_tokens (token_hash, user_id, created_at, last_used_at, failed_logins)
       VALUES ($1, $2, $3, $3, 0)`,
      [sha256(token), userId, now],
    );
    return token;
  }

  /**
   * Counts a login attempt against a live device token of this user, before the password is
   * checked: parallel guesses share its allowance, and the attempt that uses the last one kills
   * the token. Null when the token is not a live token of this user (the caller then applies the
   * account's lockout).
   */
  async reserve(token: string, userId: string): Promise<DeviceAttempt | null> {
    const now = this.clock.now();
    const idleSince = new Date(now.getTime() - DEVICE_TOKEN_IDLE_DAYS * 86_400_000);
    const [rows] = await this.dataSource.query<[unknown[], number]>(
      `UPDATE device_tokens
          SET failed_logins = failed_logins + 1,
              revoked_at = CASE WHEN failed_logins + 1 >= $3 THEN $4::timestamptz ELSE NULL END
        WHERE token_hash = $1 AND user_id = $2 AND revoked_at IS NULL
          AND failed_logins < $3 AND last_used_at > $5
        RETURNING failed_logins`,
      [sha256(token), userId, DEVICE_TOKEN_MAX_FAILURES, now, idleSince],
    );
    return rows.length === 1 ? { token, userId } : null;
  }

  /** The right password came with the token: its count starts again. */
  async succeeded(attempt: DeviceAttempt): Promise<void> {
    await this.dataSource.query(
      `UPDATE device_tokens SET failed_logins = 0, revoked_at = NULL, last_used_at = $3
        WHERE token_hash = $1 AND user_id = $2`,
      [sha256(attempt.token), attempt.userId, this.clock.now()],
    );
  }

  /** Gives back an attempt that was refused before the password was checked. */
  async refund(attempt: DeviceAttempt): Promise<void> {
    await this.dataSource.query(
      `UPDATE device_tokens SET failed_logins = GREATEST(failed_logins - 1, 0), revoked_at = NULL
        WHERE token_hash = $1 AND user_id = $2 AND failed_logins <= $3`,
      [sha256(attempt.token), attempt.userId, DEVICE_TOKEN_MAX_FAILURES],
    );
  }

  /** Whether this is a live device token of this user (the second sign-in step keeps it). */
  async isLive(token: string, userId: string): Promise<boolean> {
    const idleSince = new Date(this.clock.now().getTime() - DEVICE_TOKEN_IDLE_DAYS * 86_400_000);
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM device_tokens
        WHERE token_hash = $1 AND user_id = $2 AND revoked_at IS NULL AND last_used_at > $3`,
      [sha256(token), userId, idleSince],
    );
    return rows.length === 1;
  }
}
