import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, IsNull } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { AuthService, type SignIn } from '../auth/auth.service.js';
import { Clock } from '../common/clock.js';
import { randomToken, sha256 } from '../common/crypto/tokens.js';
import { AppError } from '../common/errors/app-error.js';
import { describeDuration } from '../config/duration.js';
import type { ResetDisclosure, Settings } from '../config/settings.js';
import { MailOutbox } from '../mail/mail-outbox.service.js';
import { AttemptLimiter, type LimitedKey } from '../rate-limit/attempt-limiter.service.js';
import { RESET_CLIENT_POLICY, RESET_REQUEST_POLICY } from '../rate-limit/backoff-policy.js';
import { clientBucket } from '../rate-limit/client-address.js';
import { LoginThrottle, typedIdentifier } from '../rate-limit/login-throttle.js';
import { TwoFactorEnrolment } from '../two-factor/two-factor-enrolment.service.js';
import { type Provisioning, TwoFactorService } from '../two-factor/two-factor.service.js';
import { resetAddress, type UserEntity } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { ResetLinkEntity } from './reset-link.entity.js';
import { ResetLinkIssuer } from './reset-link-issuer.service.js';
import { accountAllowanceKey, ResetRequestQueue } from './reset-request.queue.js';
import { ResetSessionEntity } from './reset-session.entity.js';
import { resetStepRefusal, type ResetStepName } from './reset-step.js';

/** After this many wrong codes a reset session is dead; the user must ask for a new link. */
export const MAX_RESET_CODE_FAILURES = 5;

type LinkRefusal = 'RESET_LINK_INVALID' | 'RESET_LINK_USED' | 'RESET_LINK_EXPIRED';

/** What the guarded steps receive: the live reset session and its user. */
export interface ResetContext {
  session: ResetSessionEntity;
  user: UserEntity;
}

export interface OpenedReset {
  resetToken: string;
  expiresIn: number;
  twoFactorConfigured: boolean;
}

export interface TwoFactorStepResult {
  stage: 'TWO_FACTOR_VERIFIED';
  /** Only when the user enrolled an authenticator in this step: shown once. */
  recoveryCodes?: string[];
}

/**
 * The forgot-password flow: request → emailed link → reset session → 2FA (enrol or prove) →
 * new password → signed in. Its order is decided by `authorizeStep`, which the guard calls.
 */
@Injectable()
export class PasswordResetService implements OnModuleInit {
  private readonly linkTtl: number;
  private readonly sessionTtl: number;
  private readonly disclosure: ResetDisclosure;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly twoFactor: TwoFactorService,
    private readonly enrolment: TwoFactorEnrolment,
    private readonly auth: AuthService,
    private readonly outbox: MailOutbox,
    private readonly links: ResetLinkIssuer,
    private readonly queue: ResetRequestQueue,
    private readonly limiter: AttemptLimiter,
    private readonly loginThrottle: LoginThrottle,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    config: ConfigService<Settings, true>,
  ) {
    const reset = config.get('reset', { infer: true });
    this.linkTtl = reset.linkTtl;
    this.sessionTtl = reset.sessionTtl;
    this.disclosure = reset.disclosure;
  }

  /**
   * A disabled user's reset dies (enabling them again must not revive a link or a session), and
   * so does a reset whose link went to an email address the account no longer has.
   */
  onModuleInit(): void {
    this.users.onAccountChange(async (m, userId, change) => {
      const now = this.clock.now();
      await m
        .getRepository(ResetSessionEntity)
        .update(
          { userId, finishedAt: IsNull() },
          { finishedAt: now, finishReason: change, pendingSecretSealed: null },
        );
      await m
        .getRepository(ResetLinkEntity)
        .update({ userId, usedAt: IsNull(), revokedAt: IsNull() }, { revokedAt: now });
    });
  }

  /**
   * Step 1: a user asks for a link by username or email. Every request counts against the
   * identifier and the client address, counted and checked in one step (so a burst of parallel
   * requests gets no more links than the allowance). The mail is queued, never sent inline.
   *
   * With explicit disclosure the answer says what is wrong. With generic disclosure the request
   * only counts the identifier as typed and queues it, the same work whatever it names; the
   * queue's worker decides whether a link goes out (ResetRequestQueue).
   */
  async request(identifier: string, ip: string): Promise<{ message: string }> {
    const validFor = describeDuration(this.linkTtl);
    const client: LimitedKey = {
      key: `reset-client:${clientBucket(ip)}`,
      policy: RESET_CLIENT_POLICY,
    };
    if (this.disclosure === 'generic') {
      await this.limiter.reserve([
        { key: `reset-request:${typedIdentifier(identifier)}`, policy: RESET_REQUEST_POLICY },
        client,
      ]);
      await this.queue.enqueue(identifier, ip);
      return {
        message: `If an account with an email address matches, a reset link is on its way. It is valid for ${validFor}.`,
      };
    }
    const user = await this.users.findByLogin(identifier);
    // Per account when there is one, so its username and email share one allowance.
    await this.limiter.reserve([
      user
        ? { key: accountAllowanceKey(user.id), policy: RESET_REQUEST_POLICY }
        : { key: `reset-request:${typedIdentifier(identifier)}`, policy: RESET_REQUEST_POLICY },
      client,
    ]);
    // Only a verified address gets a link: an account whose only address is unverified has none.
    const email = user ? resetAddress(user) : null;
    if (!user || !email) {
      const reason = user ? 'no_email' : 'unknown_identifier';
      // Admins see who asks for what: an unknown name tried many times is an attacker's probe.
      await this.audit.record({
        type: 'password_reset.request_refused',
        subjectId: user?.id ?? null,
        clientIp: ip,
        details: { reason, ...(user ? {} : { identifier: identifier.slice(0, 254) }) },
      });
      throw user
        ? new AppError(
            'NO_EMAIL_BOUND',
            'No email is bound to this account; contact the administrator to reset the password.',
          )
        : new AppError(
            'USER_NOT_FOUND',
            'Incorrect username: no account has this username or email.',
          );
    }
    if (!user.disabled) {
      await this.links.issue(user, email, ip);
    }
    return {
      message: `A reset link was sent to the email address of the account. It is valid for ${validFor}.`,
    };
  }

  /**
   * Step 2: the link is opened. The token is consumed atomically (two parallel uses: one wins)
   * and a reset session starts.
   */
  async openLink(token: string, ip: string): Promise<OpenedReset> {
    const now = this.clock.now();
    const hash = sha256(token);
    type Outcome = { refusal: LinkRefusal } | { resetToken: string; user: UserEntity };
    const opened = await this.dataSource.transaction(async (m): Promise<Outcome> => {
      // The row lock makes parallel openings take turns: exactly one finds it unused.
      const link = await m
        .getRepository(ResetLinkEntity)
        .createQueryBuilder('l')
        .setLock('pessimistic_write')
        .where('l.token_hash = :hash', { hash })
        .getOne();
      const checked = await this.checkLink(m, link, now);
      if (typeof checked === 'string' || !link) {
        const refusal = typeof checked === 'string' ? checked : 'RESET_LINK_INVALID';
        await this.audit.record(
          {
            type: 'password_reset.link_refused',
            subjectId: link?.userId ?? null,
            clientIp: ip,
            flowId: link?.flowId ?? null,
            details: { reason: refusal },
          },
          m,
        );
        return { refusal };
      }
      const user = checked;
      await m.getRepository(ResetLinkEntity).update({ id: link.id }, { usedAt: now });
      const resetToken = randomToken();
      await m.getRepository(ResetSessionEntity).insert({
        userId: user.id,
        flowId: link.flowId,
        tokenHash: sha256(resetToken),
        createdAt: now,
        expiresAt: new Date(now.getTime() + this.sessionTtl * 1000),
        twoFactorVerifiedAt: null,
        failedCodes: 0,
        pendingSecretSealed: null,
        finishedAt: null,
        finishReason: null,
      });
      await this.audit.record(
        {
          type: 'password_reset.link_opened',
          actorId: user.id,
          subjectId: user.id,
          clientIp: ip,
          flowId: link.flowId,
        },
        m,
      );
      return { resetToken, user };
    });
    if ('refusal' in opened) {
      throw this.linkError(opened.refusal);
    }
    return {
      resetToken: opened.resetToken,
      expiresIn: this.sessionTtl,
      twoFactorConfigured: await this.twoFactor.isEnabled(opened.user.id),
    };
  }

  /** The guard's decision: may this reset session take this step now? */
  async authorizeStep(resetToken: string | undefined, step: ResetStepName): Promise<ResetContext> {
    const session = resetToken
      ? await this.dataSource
          .getRepository(ResetSessionEntity)
          .findOneBy({ tokenHash: sha256(resetToken) })
      : null;
    const user = session ? await this.users.findById(session.userId) : null;
    const refusal = resetStepRefusal(session, user, step, this.clock.now());
    if (refusal === 'TWO_FACTOR_REQUIRED') {
      throw new AppError(
        refusal,
        'Confirm with your authenticator (or set one up) before choosing a new password.',
      );
    }
    if (refusal || !session || !user) {
      throw new AppError(
        'RESET_SESSION_INVALID',
        'This password reset has expired or ended; ask for a new link.',
      );
    }
    return { session, user };
  }

  /** Step 3a, for a user without 2FA: offer an authenticator to enrol (kept with the session). */
  async twoFactorSetup({ session, user }: ResetContext): Promise<Provisioning> {
    if (await this.twoFactor.isEnabled(user.id)) {
      throw new AppError(
        'TWO_FACTOR_ALREADY_CONFIGURED',
        'Your account already has an authenticator: enter a code from it (or a recovery code).',
      );
    }
    const provisioning = await this.twoFactor.provision(user.username);
    await this.dataSource
      .getRepository(ResetSessionEntity)
      .update(
        { id: session.id },
        { pendingSecretSealed: this.twoFactor.sealSecret(user.id, provisioning.secret) },
      );
    return provisioning;
  }

  /**
   * What the 2FA step asks of this user: a code from the configured authenticator, or (no 2FA
   * yet) the enrolment of one: the pending secret shown again after a wrong code, else a new one.
   */
  async twoFactorChallenge(
    reset: ResetContext,
    pendingSecret: string | null,
  ): Promise<{ enrol: false } | ({ enrol: true } & Provisioning)> {
    if (await this.twoFactor.isEnabled(reset.user.id)) {
      return { enrol: false };
    }
    const provisioning = pendingSecret
      ? await this.twoFactor.provision(reset.user.username, pendingSecret)
      : await this.twoFactorSetup(reset);
    return { enrol: true, ...provisioning };
  }

  /**
   * Step 3b: prove the configured authenticator (or use a recovery code), or enrol the one from
   * step 3a. A user with 2FA can never enrol a new authenticator here.
   *
   * Each code takes one of the session's 5 tries before it is checked (a right one gives it
   * back), so parallel codes on one session get at most 5 checked; the rest find the session
   * ended. A code the per-user limit refuses (429) was never checked and gives its try back.
   */
  async twoFactorVerify(
    { session, user }: ResetContext,
    code: string,
    ip: string,
  ): Promise<TwoFactorStepResult> {
    const tryNumber = await this.takeCodeTry(session);
    try {
      return await this.verifyWithTry({ session, user }, code, ip, tryNumber);
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'INVALID_TOTP_CODE')) {
        await this.giveBackCodeTry(session);
      }
      throw error;
    }
  }

  private async verifyWithTry(
    { session, user }: ResetContext,
    code: string,
    ip: string,
    tryNumber: number,
  ): Promise<TwoFactorStepResult> {
    const context = { ip, flowId: session.flowId };
    if (await this.twoFactor.isEnabled(user.id)) {
      const kind = await this.twoFactor.verify(user, code, {
        ...context,
        how: 'to reset your password',
      });
      if (!kind) {
        await this.wrongCode(session, user, ip, tryNumber);
      }
      await this.markVerified(session, user, ip, 'password_reset.two_factor_verified');
      return { stage: 'TWO_FACTOR_VERIFIED' };
    }
    if (!session.pendingSecretSealed) {
      throw new AppError(
        'TWO_FACTOR_SETUP_REQUIRED',
        'Set up an authenticator first (POST …/two-factor/setup).',
      );
    }
    const secret = this.twoFactor.openSecret(user.id, session.pendingSecretSealed);
    let step: number;
    try {
      step = await this.twoFactor.checkNewSecret(user.id, secret, code, ip, session.flowId);
    } catch (error) {
      if (error instanceof AppError && error.code === 'INVALID_TOTP_CODE') {
        await this.wrongCode(session, user, ip, tryNumber);
      }
      throw error;
    }
    const recoveryCodes = await this.dataSource.transaction(async (m) => {
      const codes = await this.enrolment.enrolIn(m, user, secret, step, context);
      await this.markVerified(session, user, ip, 'password_reset.two_factor_enrolled', m);
      return codes;
    });
    return { stage: 'TWO_FACTOR_VERIFIED', recoveryCodes };
  }

  /**
   * Step 4, in one transaction: new password (same policy as everywhere), every session revoked,
   * the reset finished, other links dead, the "password changed" mail queued, and a new session.
   */
  async complete(
    { session, user }: ResetContext,
    newPassword: string,
    ip: string,
  ): Promise<SignIn> {
    const passwordHash = await this.users.preparePassword(user, newPassword, 'newPassword');
    const signedIn = await this.dataSource.transaction(async (m) => {
      const now = this.clock.now();
      // Finishing first, conditionally, makes a second concurrent completion lose.
      const [, finished] = await m.query<[unknown[], number]>(
        `UPDATE password_reset_sessions SET finished_at = $2, finish_reason = 'completed', pending_secret_sealed = NULL
          WHERE id = $1 AND finished_at IS NULL AND expires_at > $2 AND two_factor_verified_at IS NOT NULL`,
        [session.id, now],
      );
      if (finished !== 1) {
        throw new AppError(
          'RESET_SESSION_INVALID',
          'This password reset has expired or ended; ask for a new link.',
        );
      }
      const updated = await this.users
        .applyPasswordIn(m, user.id, passwordHash, {
          temporary: false,
          revokeReason: 'password_reset',
          requireEnabled: true,
          audit: {
            type: 'password.changed',
            actorId: user.id,
            clientIp: ip,
            flowId: session.flowId,
            details: { via: 'password_reset' },
          },
        })
        .catch((error: unknown) => {
          throw error instanceof AppError && error.code === 'ACCOUNT_DISABLED'
            ? new AppError(
                'RESET_SESSION_INVALID',
                'This account is disabled. Contact your administrator.',
              )
            : error;
        });
      await m
        .getRepository(ResetLinkEntity)
        .update({ userId: user.id, usedAt: IsNull(), revokedAt: IsNull() }, { revokedAt: now });
      if (updated.email) {
        await this.outbox.enqueue(m, 'password-changed', updated.email, {
          username: updated.username,
          how: 'through a password reset',
        });
      }
      await this.audit.record(
        {
          type: 'password_reset.completed',
          actorId: user.id,
          subjectId: user.id,
          clientIp: ip,
          flowId: session.flowId,
        },
        m,
      );
      return this.auth.signIn(updated, ['pwd', 'otp'], ip, m);
    });
    // Whoever was guessing the old password, its owner can sign in with the new one at once.
    await this.loginThrottle.clearAccount(user);
    return signedIn;
  }

  /** Why a link cannot be opened now, or its user when it can. Checked before it is used up. */
  private async checkLink(
    m: EntityManager,
    link: ResetLinkEntity | null,
    now: Date,
  ): Promise<LinkRefusal | UserEntity> {
    if (!link || link.revokedAt) {
      return 'RESET_LINK_INVALID';
    }
    if (link.usedAt) {
      return 'RESET_LINK_USED';
    }
    if (link.expiresAt <= now) {
      return 'RESET_LINK_EXPIRED';
    }
    const user = await this.users.findById(link.userId, m);
    // Deleted or disabled since, or the password changed after the link was sent.
    if (!user || user.disabled || user.passwordChangedAt > link.createdAt) {
      return 'RESET_LINK_INVALID';
    }
    return user;
  }

  private linkError(
    code: 'RESET_LINK_INVALID' | 'RESET_LINK_USED' | 'RESET_LINK_EXPIRED',
  ): AppError {
    const detail = {
      RESET_LINK_INVALID:
        'This reset link is not valid (a newer one may have been sent). Ask for a new link.',
      RESET_LINK_USED: 'This reset link was already used. Ask for a new link.',
      RESET_LINK_EXPIRED: `This reset link has expired (links are valid for ${describeDuration(this.linkTtl)}). Ask for a new link.`,
    }[code];
    return new AppError(code, detail);
  }

  /**
   * Takes one of the session's code tries, atomically with the check that one is left (the row
   * is updated only while the session is live and under the limit); returns its number, 1-5.
   * None left, or the session ended meanwhile: 401 RESET_SESSION_INVALID.
   */
  private async takeCodeTry(session: ResetSessionEntity): Promise<number> {
    const [rows] = await this.dataSource.query<[{ failed_codes: number }[], number]>(
      `UPDATE password_reset_sessions SET failed_codes = failed_codes + 1
        WHERE id = $1 AND failed_codes < $2 AND finished_at IS NULL AND expires_at > $3
        RETURNING failed_codes`,
      [session.id, MAX_RESET_CODE_FAILURES, this.clock.now()],
    );
    if (!rows[0]) {
      throw new AppError(
        'RESET_SESSION_INVALID',
        'This password reset has expired or ended; ask for a new link.',
      );
    }
    return rows[0].failed_codes;
  }

  /** The try was not spent on a wrong code (refused before the check, or an error). */
  private async giveBackCodeTry(session: ResetSessionEntity): Promise<void> {
    await this.dataSource.query(
      `UPDATE password_reset_sessions SET failed_codes = failed_codes - 1 WHERE id = $1 AND failed_codes > 0`,
      [session.id],
    );
  }

  /** A wrong code in the reset flow (its try stays spent): the 5th ends the session. Always throws. */
  private async wrongCode(
    session: ResetSessionEntity,
    user: UserEntity,
    ip: string,
    tryNumber: number,
  ): Promise<never> {
    if (tryNumber >= MAX_RESET_CODE_FAILURES) {
      await this.dataSource.query(
        `UPDATE password_reset_sessions SET finished_at = $2, finish_reason = 'too_many_codes', pending_secret_sealed = NULL
          WHERE id = $1 AND finished_at IS NULL`,
        [session.id, this.clock.now()],
      );
      await this.audit.record({
        type: 'password_reset.session_killed',
        actorId: user.id,
        subjectId: user.id,
        clientIp: ip,
        flowId: session.flowId,
        details: { reason: 'too_many_codes' },
      });
    }
    throw new AppError('INVALID_TOTP_CODE', 'The code is not valid.');
  }

  /** The code was right: the step is done, and the code's try is given back. */
  private async markVerified(
    session: ResetSessionEntity,
    user: UserEntity,
    ip: string,
    type: 'password_reset.two_factor_verified' | 'password_reset.two_factor_enrolled',
    m: EntityManager = this.dataSource.manager,
  ): Promise<void> {
    await m.query(
      `UPDATE password_reset_sessions
          SET two_factor_verified_at = $2, pending_secret_sealed = NULL,
              failed_codes = GREATEST(failed_codes - 1, 0)
        WHERE id = $1`,
      [session.id, this.clock.now()],
    );
    await this.audit.record(
      { type, actorId: user.id, subjectId: user.id, clientIp: ip, flowId: session.flowId },
      m,
    );
  }
}
