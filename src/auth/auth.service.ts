import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import type { Settings } from '../config/settings.js';
import { AuditService } from '../audit/audit.service.js';
import { AppError } from '../common/errors/app-error.js';
import { AttemptLimiter } from '../rate-limit/attempt-limiter.service.js';
import {
  type LoginAttempt,
  type LoginSubject,
  LoginThrottle,
} from '../rate-limit/login-throttle.js';
import { DeviceTokensService } from '../sessions/device-tokens.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import type { UserEntity } from '../users/user.entity.js';
import { PasswordsService } from '../users/passwords.service.js';
import { UsersService } from '../users/users.service.js';
import { TwoFactorService } from '../two-factor/two-factor.service.js';
import { type AccessClaims, CHALLENGE_TTL_SECONDS, TokenService } from './token.service.js';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** A full sign-in's answer: the tokens, and the device token to send with later logins. */
export interface SignIn extends TokenPair {
  deviceToken: string;
}

/** The password was right; the authenticator code comes next (POST /auth/login/two-factor). */
export interface TwoFactorChallenge {
  twoFactorRequired: true;
  challengeToken: string;
  expiresIn: number;
}

export type IntrospectionResult =
  | { active: false }
  | ({ active: true; token_type: 'Bearer' } & Pick<
      AccessClaims,
      'iss' | 'aud' | 'sub' | 'sid' | 'exp' | 'iat' | 'jti' | 'username' | 'roles' | 'amr'
    >);

/**
 * Signing in (password, then the second factor), refreshing, signing out and introspecting.
 *
 * Over 300 lines on purpose: these are the token lifecycle, and the order of their checks is what
 * keeps them safe (an attempt is counted before the password is checked, an unknown user costs
 * the same hashing time, "disabled" and "temporary password expired" are told only after the
 * right password, a challenge signs in once). Read side by side they can be audited in one pass;
 * split, each would lose the others' context. The hosted pages and the reset flow call the same
 * methods.
 */
@Injectable()
export class AuthService {
  private readonly temporaryPasswordTtlMs: number;

  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordsService,
    private readonly sessions: SessionsService,
    private readonly tokens: TokenService,
    private readonly limiter: AttemptLimiter,
    private readonly audit: AuditService,
    private readonly twoFactor: TwoFactorService,
    private readonly clock: Clock,
    private readonly devices: DeviceTokensService,
    private readonly throttle: LoginThrottle,
    @InjectDataSource() private readonly dataSource: DataSource,
    config: ConfigService<Settings, true>,
  ) {
    this.temporaryPasswordTtlMs = config.get('password', { infer: true }).temporaryTtl * 1000;
  }

  /**
   * A temporary password (set by an admin) stops working TEMPORARY_PASSWORD_TTL after it was set.
   * Checked only once the password is known to be right, so it tells nothing to a guesser.
   */
  private async assertPasswordNotExpired(user: UserEntity, ip: string): Promise<void> {
    const setAt = user.passwordChangedAt.getTime();
    if (
      !user.mustChangePassword ||
      setAt + this.temporaryPasswordTtlMs > this.clock.now().getTime()
    ) {
      return;
    }
    await this.audit.record({
      type: 'login.failed',
      subjectId: user.id,
      clientIp: ip,
      details: { reason: 'temporary_password_expired' },
    });
    throw new AppError(
      'PASSWORD_EXPIRED',
      'The temporary password has expired. Ask your administrator to set a new one.',
    );
  }

  /**
   * Password sign-in. Failures are throttled per account (wherever they come from) and per
   * client address; LoginThrottle says which counters a caller can see. The attempt is counted before the password is checked, so a burst of
   * parallel guesses gets no more checked than the limits allow; a right password is then taken
   * back (successful sign-ins are not throttled). An unknown user costs the same hashing time
   * as a wrong password.
   */
  async login(
    identifier: string,
    password: string,
    ip: string,
    deviceToken?: string,
  ): Promise<SignIn | TwoFactorChallenge> {
    const user = await this.users.findByLogin(identifier);
    // A live device token of this user takes the account's lockout off this login: it is
    // limited by its own failures instead (counted here, before the password is checked).
    const device = deviceToken && user ? await this.devices.reserve(deviceToken, user.id) : null;
    let attempt: LoginAttempt;
    try {
      attempt = await this.beginAttempt({ identifier, user, ip, knownDevice: device !== null });
    } catch (error) {
      if (device) {
        await this.devices.refund(device);
      }
      throw error;
    }
    let passwordOk: boolean;
    try {
      // Silently locked (generic disclosure): the same hashing time, and the wrong-password answer.
      passwordOk = await this.passwords.matches(attempt.silentlyLocked ? null : user, password);
    } catch (error) {
      await attempt.notCounted();
      if (device) {
        await this.devices.refund(device);
      }
      throw error;
    }
    if (!user || !passwordOk) {
      await this.audit.record({
        type: attempt.silentlyLocked ? 'login.throttled' : 'login.failed',
        subjectId: user?.id ?? null,
        clientIp: ip,
        details: {
          reason: attempt.silentlyLocked
            ? 'account_locked'
            : user
              ? 'wrong_password'
              : 'unknown_user',
        },
      });
      throw new AppError('INVALID_CREDENTIALS', 'The username or password is not correct.');
    }
    if (user.disabled) {
      await attempt.notCounted();
      await this.audit.record({
        type: 'login.failed',
        subjectId: user.id,
        clientIp: ip,
        details: { reason: 'disabled' },
      });
      throw new AppError(
        'ACCOUNT_DISABLED',
        'This account is disabled. Contact your administrator.',
      );
    }
    await attempt.succeeded();
    if (device) {
      await this.devices.succeeded(device);
    }
    await this.assertPasswordNotExpired(user, ip);
    await this.passwords.upgradeHashIfNeeded(user, password);
    if (await this.twoFactor.isEnabled(user.id)) {
      await this.audit.record({
        type: 'login.two_factor_required',
        subjectId: user.id,
        clientIp: ip,
      });
      return {
        twoFactorRequired: true,
        challengeToken: this.tokens.signChallenge(user.id, user.passwordChangedAt),
        expiresIn: CHALLENGE_TTL_SECONDS,
      };
    }
    // The session, its audit record and a new device token: one commit (one WAL flush) for all.
    return this.dataSource.transaction(async (m) => {
      await this.assertUnchangedIn(
        m,
        user,
        () => new AppError('INVALID_CREDENTIALS', 'The username or password is not correct.'),
      );
      const pair = await this.startSession(user, ['pwd'], ip, m);
      await this.audit.record(
        {
          type: 'login.succeeded',
          actorId: user.id,
          subjectId: user.id,
          clientIp: ip,
          details: { amr: ['pwd'], knownDevice: device !== null },
        },
        m,
      );
      return { ...pair, deviceToken: device?.token ?? (await this.devices.issue(user.id, m)) };
    });
  }

  /**
   * The second sign-in step: a challenge from a correct password plus an authenticator code (or
   * a recovery code). Wrong codes count against the user across every flow.
   */
  async loginTwoFactor(
    challengeToken: string,
    code: string,
    ip: string,
    deviceToken?: string,
  ): Promise<SignIn> {
    const challenge = this.tokens.verifyChallenge(challengeToken);
    const user = challenge ? await this.users.findById(challenge.userId) : null;
    if (!challenge || !user || user.passwordChangedAt.getTime() !== challenge.passwordChangedAt) {
      throw new AppError(
        'CHALLENGE_INVALID',
        'The sign-in has expired or is not valid; sign in again.',
      );
    }
    if (user.disabled) {
      throw new AppError(
        'ACCOUNT_DISABLED',
        'This account is disabled. Contact your administrator.',
      );
    }
    await this.assertPasswordNotExpired(user, ip);
    // A challenge signs in once: a second success would need the password again. A completed
    // challenge is refused before the code is checked, so it cannot use up a good code.
    const onceKey = `challenge:${challenge.id}`;
    if (await this.limiter.isClaimed(onceKey)) {
      throw new AppError('CHALLENGE_INVALID', 'This sign-in was already completed; sign in again.');
    }
    if (!(await this.twoFactor.verify(user, code, { ip, flowId: null, how: 'signIn' }))) {
      throw new AppError('INVALID_TOTP_CODE', 'The code is not valid.', { status: 401 });
    }
    if (!(await this.limiter.claimOnce(onceKey, CHALLENGE_TTL_SECONDS))) {
      throw new AppError('CHALLENGE_INVALID', 'This sign-in was already completed; sign in again.');
    }
    const amr = ['pwd', 'otp'];
    const known = deviceToken !== undefined && (await this.devices.isLive(deviceToken, user.id));
    // The session, its audit record and a new device token: one commit (one WAL flush) for all.
    return this.dataSource.transaction(async (m) => {
      await this.assertUnchangedIn(
        m,
        user,
        () => new AppError('CHALLENGE_INVALID', 'The sign-in is no longer valid; sign in again.'),
      );
      const pair = await this.startSession(user, amr, ip, m);
      await this.audit.record(
        {
          type: 'login.succeeded',
          actorId: user.id,
          subjectId: user.id,
          clientIp: ip,
          details: { amr },
        },
        m,
      );
      return { ...pair, deviceToken: known ? deviceToken : await this.devices.issue(user.id, m) };
    });
  }

  /** Rotates a refresh token. A rotated token presented again ends its whole session. */
  async refresh(refreshToken: string, ip: string): Promise<TokenPair> {
    const result = await this.sessions.rotate(refreshToken);
    if (result.outcome === 'reused') {
      await this.audit.record({
        type: 'token.refresh_reuse_detected',
        subjectId: result.userId,
        clientIp: ip,
        details: { sessionId: result.sessionId },
      });
    }
    if (result.outcome !== 'rotated') {
      throw new AppError(
        'INVALID_REFRESH_TOKEN',
        'The refresh token is not valid, expired or already used.',
      );
    }
    const state = await this.users.authState(result.userId);
    if (!state || state.disabled) {
      throw new AppError(
        'INVALID_REFRESH_TOKEN',
        'The refresh token is not valid, expired or already used.',
      );
    }
    return {
      accessToken: this.tokens.signAccessToken({
        userId: result.userId,
        sessionId: result.sessionId,
        username: state.username,
        roles: state.roles,
        amr: result.amr,
      }),
      refreshToken: result.refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.tokens.accessTtl,
    };
  }

  async logout(refreshToken: string, ip: string): Promise<void> {
    const ended = await this.sessions.revokeByRefreshToken(refreshToken);
    if (ended) {
      await this.audit.record({
        type: 'logout',
        actorId: ended.userId,
        subjectId: ended.userId,
        clientIp: ip,
        details: { sessionId: ended.sessionId },
      });
    }
  }

  /** RFC 7662: active only for a genuine access token whose session and user are still live. */
  async introspect(token: string): Promise<IntrospectionResult> {
    const claims = this.tokens.verifyAccessToken(token);
    if (!claims || !(await this.sessions.isActive(claims.sid, claims.sub))) {
      return { active: false };
    }
    const state = await this.users.authState(claims.sub);
    if (!state || state.disabled) {
      return { active: false };
    }
    const { iss, aud, sub, sid, exp, iat, jti, amr } = claims;
    // Username and roles as they are now, as Portcullis's own endpoints see them.
    const { username, roles } = state;
    return {
      active: true,
      token_type: 'Bearer',
      iss,
      aud,
      sub,
      sid,
      exp,
      iat,
      jti,
      username,
      roles,
      amr,
    };
  }

  /** A full sign-in (a completed password reset): the session's tokens and a new device token. */
  async signIn(
    user: UserEntity,
    amr: string[],
    ip: string,
    manager: EntityManager,
  ): Promise<SignIn> {
    const pair = await this.startSession(user, amr, ip, manager);
    return { ...pair, deviceToken: await this.devices.issue(user.id, manager) };
  }

  /** Issues a session and its first token pair for a user who has proven who they are. */
  async startSession(
    user: UserEntity,
    amr: string[],
    ip: string,
    manager?: EntityManager,
  ): Promise<TokenPair> {
    const { sessionId, refreshToken } = await this.sessions.create(user.id, amr, ip, manager);
    return {
      accessToken: this.tokens.signAccessToken({
        userId: user.id,
        sessionId,
        username: user.username,
        roles: user.roles,
        amr,
      }),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.tokens.accessTtl,
    };
  }

  /**
   * Inside the transaction that starts a session: the user's row (locked until it commits) still
   * has the password that was checked, and is enabled. A password change or reset, or a disable,
   * that committed since the check revoked every session but could not see this one; one that
   * commits later waits for the lock and then revokes it.
   */
  private async assertUnchangedIn(
    m: EntityManager,
    checked: UserEntity,
    passwordChanged: () => AppError,
  ): Promise<void> {
    const user = await this.users.lockById(checked.id, m);
    if (!user || user.passwordChangedAt.getTime() !== checked.passwordChangedAt.getTime()) {
      throw passwordChanged();
    }
    if (user.disabled) {
      throw new AppError(
        'ACCOUNT_DISABLED',
        'This account is disabled. Contact your administrator.',
      );
    }
  }

  /** Counts the sign-in attempt, or records that it was throttled and throws the 429. */
  private async beginAttempt(subject: LoginSubject): Promise<LoginAttempt> {
    try {
      return await this.throttle.begin(subject);
    } catch (error) {
      if (error instanceof AppError && error.code === 'TOO_MANY_ATTEMPTS') {
        await this.audit.record({
          type: 'login.throttled',
          subjectId: subject.user?.id ?? null,
          clientIp: subject.ip,
        });
      }
      throw error;
    }
  }
}
