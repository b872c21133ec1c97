import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError } from '../common/errors/app-error.js';
import type { Settings } from '../config/settings.js';
import { AttemptLimiter, type LimitedKey, type Reservation } from './attempt-limiter.service.js';
import { ACCOUNT_POLICY, CLIENT_POLICY } from './backoff-policy.js';
import { clientBucket } from './client-address.js';

/** The counter of an account's failed sign-ins, whatever name or address they came from. */
export function accountKey(userId: string): string {
  return `account:${userId}`;
}

/**
 * A username or email as a caller typed it, folded so that case and compatibility forms
 * (fullwidth letters, ligatures) share one counter: `BOB`, `bob` and `ｂｏｂ` are one name to a throttle.
 */
export function typedIdentifier(identifier: string): string {
  return identifier.normalize('NFKC').toLowerCase();
}

function clientKey(ip: string): LimitedKey {
  return { key: `client:${clientBucket(ip)}`, policy: CLIENT_POLICY };
}

function typedKey(identifier: string): LimitedKey {
  return { key: `login-id:${typedIdentifier(identifier)}`, policy: ACCOUNT_POLICY };
}

/** Who is signing in, as far as the throttle needs to know. */
export interface LoginSubject {
  identifier: string;
  user: { id: string; username: string; email: string | null } | null;
  ip: string;
  /** A live device token of this user: its own limit replaces the account's (DeviceTokensService). */
  knownDevice: boolean;
}

/**
 * One password sign-in, counted before the password is checked. It stays counted as a failure
 * unless the caller says otherwise.
 */
export class LoginAttempt {
  constructor(
    private readonly limiter: AttemptLimiter,
    private readonly visible: Reservation,
    private readonly silent: Reservation | null,
    private readonly client: LimitedKey,
    private readonly accountKeys: string[],
    /** The account is over its silent allowance: do not check the password, answer as for a wrong one. */
    readonly silentlyLocked: boolean,
  ) {}

  /** A right password: the client's attempt is taken back and the account's counters cleared. */
  async succeeded(): Promise<void> {
    await this.visible.refund([this.client]);
    for (const key of this.accountKeys) {
      await this.limiter.clear(key);
    }
  }

  /** The attempt was not a guess (a disabled account, an error before checking): nothing counts. */
  async notCounted(): Promise<void> {
    await this.visible.refund();
    await this.silent?.refund();
  }
}

/**
 * Which counters a password sign-in counts against, and what a caller sees of them.
 *
 * Always the client address, answering 429. Per account, it depends on
 * `PASSWORD_RESET_DISCLOSURE`, because a lockout is itself an answer about the account:
 * - `explicit`: the account's counter answers 429 once it is locked, whichever name or address
 *   is typed (an unknown name is counted under the name as typed, so it locks the same way);
 * - `generic`: the counter a caller sees is the identifier as typed, for known and unknown names
 *   alike, so `bob` and `bob@example.com` never share a visible counter. The account's own
 *   counter is silent: over it, the password is not checked and the answer is the one a wrong
 *   password gets, after the same hashing time (as Keycloak's brute-force detection does). Its
 *   owner still gets in from a device with a device token, or after a password reset.
 */
@Injectable()
export class LoginThrottle {
  private readonly silentAccounts: boolean;

  constructor(
    private readonly limiter: AttemptLimiter,
    config: ConfigService<Settings, true>,
  ) {
    this.silentAccounts = config.get('reset', { infer: true }).disclosure === 'generic';
  }

  /** Counts the attempt; throws 429 TOO_MANY_ATTEMPTS (counting nothing) when a visible key must wait. */
  async begin({ identifier, user, ip, knownDevice }: LoginSubject): Promise<LoginAttempt> {
    const client = clientKey(ip);
    if (knownDevice) {
      return new LoginAttempt(
        this.limiter,
        await this.limiter.reserve([client]),
        null,
        client,
        [],
        false,
      );
    }
    const account: LimitedKey | null = user
      ? { key: accountKey(user.id), policy: ACCOUNT_POLICY }
      : null;
    const typed = typedKey(identifier);
    if (!this.silentAccounts) {
      const counted = account ?? typed;
      const visible = await this.limiter.reserve([client, counted]);
      return new LoginAttempt(this.limiter, visible, null, client, [counted.key], false);
    }
    const visible = await this.limiter.reserve([client, typed]);
    let silent: Reservation | null = null;
    if (account) {
      try {
        silent = await this.limiter.reserve([account]);
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'TOO_MANY_ATTEMPTS')) {
          await visible.refund();
          throw error;
        }
      }
    }
    const cleared = user ? [typed.key, ...this.accountNameKeys(user)] : [typed.key];
    return new LoginAttempt(
      this.limiter,
      visible,
      silent,
      client,
      [...new Set(cleared)],
      account !== null && silent === null,
    );
  }

  /**
   * A new password was set by a reset or an admin: the account's failed sign-ins are forgotten,
   * so its owner can sign in at once.
   */
  async clearAccount(user: { id: string; username: string; email: string | null }): Promise<void> {
    for (const key of this.accountNameKeys(user)) {
      await this.limiter.clear(key);
    }
  }

  private accountNameKeys(user: { id: string; username: string; email: string | null }): string[] {
    const names = [user.username, ...(user.email ? [user.email] : [])];
    return [accountKey(user.id), ...names.map((name) => typedKey(name).key)];
  }
}
