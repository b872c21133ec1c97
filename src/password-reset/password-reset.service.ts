import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { AuthService, type SignIn } from '../auth/auth.service.js';
import { Clock } from '../common/clock.js';
import { randomToken, sha256 } from '../common/crypto/tokens.js';
import { AppError } from '../common/errors/app-error.js';
import { describeDuration } from '../config/duration.js';
import type { Settings } from '../config/settings.js';
import { MailOutbox } from '../mail/mail-outbox.service.js';
import { LoginThrottle } from '../rate-limit/login-throttle.js';
import { type Provisioning, TwoFactorService } from '../two-factor/two-factor.service.js';
import type { UserEntity } from '../users/user.entity.js';
import { PasswordsService } from '../users/passwords.service.js';
import { UsersService } from '../users/users.service.js';
import type { ResetLinkEntity } from './reset-link.entity.js';
import { ResetLinksRepository } from './reset-links.repository.js';
import { ResetRequestService } from './reset-request.service.js';
import type { ResetSessionEntity } from './reset-session.entity.js';
import { ResetSessionsRepository } from './reset-sessions.repository.js';
import { resetStepRefusal, type ResetStepName } from './reset-step.js';
import { ResetTwoFactorService, type TwoFactorStepResult } from './reset-two-factor.service.js';

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

/**
 * The forgot-password flow: request → emailed link → reset session → 2FA (enrol or prove) →
 * new password → signed in. Its order is decided by `authorizeStep`, which the guard calls.
 * One method per step, for the API and the hosted pages alike; the 2FA step's work is
 * ResetTwoFactorService's.
 */
@Injectable()
export class PasswordResetService implements OnModuleInit {
  private readonly linkTtl: number;
  private readonly sessionTtl: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly links: ResetLinksRepository,
    private readonly sessions: ResetSessionsRepository,
    private readonly requests: ResetRequestService,
    private readonly twoFactorStep: ResetTwoFactorService,
    private readonly users: UsersService,
    private readonly passwords: PasswordsService,
    private readonly twoFactor: TwoFactorService,
    private readonly auth: AuthService,
    private readonly outbox: MailOutbox,
    private readonly loginThrottle: LoginThrottle,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    config: ConfigService<Settings, true>,
  ) {
    const reset = config.get('reset', { infer: true });
    this.linkTtl = reset.linkTtl;
    this.sessionTtl = reset.sessionTtl;
  }

  /**
   * A disabled user's reset dies (enabling them again must not revive a link or a session), and
   * so does a reset whose link went to an email address the account no longer has.
   */
  onModuleInit(): void {
    this.users.onAccountChange(async (m, userId, change) => {
      const now = this.clock.now();
      await this.sessions.finishAllOf(userId, change, now, m);
      await this.links.revokeLiveLinks(userId, now, m);
    });
  }

  /** Step 1: a user asks for a link by username or email (see ResetRequestService). */
  request(identifier: string, ip: string): Promise<{ message: string }> {
    return this.requests.request(identifier, ip);
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
      const link = await this.links.lockByToken(hash, m);
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
      await this.links.consumeLink(link.id, now, m);
      const resetToken = randomToken();
      await this.sessions.insert(
        {
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
        },
        m,
      );
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
    const session = resetToken ? await this.sessions.findByToken(sha256(resetToken)) : null;
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
  twoFactorSetup(reset: ResetContext): Promise<Provisioning> {
    return this.twoFactorStep.setup(reset);
  }

  /**
   * What the 2FA step asks of this user: a code from the configured authenticator, or the
   * enrolment of one (see ResetTwoFactorService.challenge).
   */
  twoFactorChallenge(
    reset: ResetContext,
    pendingSecret: string | null,
  ): Promise<{ enrol: false } | ({ enrol: true } & Provisioning)> {
    return this.twoFactorStep.challenge(reset, pendingSecret);
  }

  /** Step 3b: prove the configured authenticator (or a recovery code), or enrol the new one. */
  twoFactorVerify(reset: ResetContext, code: string, ip: string): Promise<TwoFactorStepResult> {
    return this.twoFactorStep.verify(reset, code, ip);
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
    const passwordHash = await this.passwords.prepare(user, newPassword, 'newPassword');
    const signedIn = await this.dataSource.transaction(async (m) => {
      const now = this.clock.now();
      // Finishing first, conditionally, makes a second concurrent completion lose.
      if (!(await this.sessions.finishCompleted(session.id, now, m))) {
        throw new AppError(
          'RESET_SESSION_INVALID',
          'This password reset has expired or ended; ask for a new link.',
        );
      }
      const updated = await this.passwords
        .applyIn(m, user.id, passwordHash, {
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
      await this.links.revokeLiveLinks(user.id, now, m);
      if (updated.email) {
        await this.outbox.enqueue(
          m,
          'password-changed',
          { email: updated.email, locale: updated.locale },
          { username: updated.username, how: 'passwordReset' },
        );
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
}
