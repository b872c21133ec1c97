import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import { randomToken, sha256 } from '../common/crypto/tokens.js';
import { DeviceTokensRepository } from './device-tokens.repository.js';

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
    private readonly repository: DeviceTokensRepository,
    private readonly clock: Clock,
  ) {}

  /** A new device token for a user who just signed in fully; pass the manager inside a transaction. */
  async issue(userId: string, manager?: EntityManager): Promise<string> {
    const token = randomToken();
    await this.repository.insert(sha256(token), userId, this.clock.now(), manager);
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
    const counted = await this.repository.takeAttempt(
      sha256(token),
      userId,
      DEVICE_TOKEN_MAX_FAILURES,
      now,
      this.idleSince(now),
    );
    return counted ? { token, userId } : null;
  }

  /** The right password came with the token: its count starts again. */
  async succeeded(attempt: DeviceAttempt): Promise<void> {
    await this.repository.markUsed(sha256(attempt.token), attempt.userId, this.clock.now());
  }

  /** Gives back an attempt that was refused before the password was checked. */
  async refund(attempt: DeviceAttempt): Promise<void> {
    await this.repository.giveBackAttempt(
      sha256(attempt.token),
      attempt.userId,
      DEVICE_TOKEN_MAX_FAILURES,
    );
  }

  /** Whether this is a live device token of this user (the second sign-in step keeps it). */
  isLive(token: string, userId: string): Promise<boolean> {
    return this.repository.isLive(sha256(token), userId, this.idleSince(this.clock.now()));
  }

  /** Tokens not signed in with since then are forgotten. */
  private idleSince(now: Date): Date {
    return new Date(now.getTime() - DEVICE_TOKEN_IDLE_DAYS * 86_400_000);
  }
}
