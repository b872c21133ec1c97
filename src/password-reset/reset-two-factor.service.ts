import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { AppError } from '../common/errors/app-error.js';
import { TwoFactorEnrolment } from '../two-factor/two-factor-enrolment.service.js';
import { type Provisioning, TwoFactorService } from '../two-factor/two-factor.service.js';
import type { UserEntity } from '../users/user.entity.js';
import type { ResetContext } from './password-reset.service.js';
import type { ResetSessionEntity } from './reset-session.entity.js';
import { ResetSessionsRepository } from './reset-sessions.repository.js';

/** After this many wrong codes a reset session is dead; the user must ask for a new link. */
export const MAX_RESET_CODE_FAILURES = 5;

export interface TwoFactorStepResult {
  stage: 'TWO_FACTOR_VERIFIED';
  /** Only when the user enrolled an authenticator in this step: shown once. */
  recoveryCodes?: string[];
}

/**
 * Step 3 of the forgot-password flow: the user proves their authenticator (or a recovery code),
 * or, without 2FA, enrols one. A reset session has MAX_RESET_CODE_FAILURES code tries.
 */
@Injectable()
export class ResetTwoFactorService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sessions: ResetSessionsRepository,
    private readonly twoFactor: TwoFactorService,
    private readonly enrolment: TwoFactorEnrolment,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** Step 3a, for a user without 2FA: offer an authenticator to enrol (kept with the session). */
  async setup({ session, user }: ResetContext): Promise<Provisioning> {
    if (await this.twoFactor.isEnabled(user.id)) {
      throw new AppError(
        'TWO_FACTOR_ALREADY_CONFIGURED',
        'Your account already has an authenticator: enter a code from it (or a recovery code).',
      );
    }
    const provisioning = await this.twoFactor.provision(user.username);
    await this.sessions.keepPendingSecret(
      session.id,
      this.twoFactor.sealSecret(user.id, provisioning.secret),
    );
    return provisioning;
  }

  /**
   * What the 2FA step asks of this user: a code from the configured authenticator, or (no 2FA
   * yet) the enrolment of one: the pending secret shown again after a wrong code, else a new one.
   */
  async challenge(
    reset: ResetContext,
    pendingSecret: string | null,
  ): Promise<{ enrol: false } | ({ enrol: true } & Provisioning)> {
    if (await this.twoFactor.isEnabled(reset.user.id)) {
      return { enrol: false };
    }
    const provisioning = pendingSecret
      ? await this.twoFactor.provision(reset.user.username, pendingSecret)
      : await this.setup(reset);
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
  async verify(
    { session, user }: ResetContext,
    code: string,
    ip: string,
  ): Promise<TwoFactorStepResult> {
    const tryNumber = await this.takeCodeTry(session);
    try {
      return await this.verifyWithTry({ session, user }, code, ip, tryNumber);
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'INVALID_TOTP_CODE')) {
        await this.sessions.giveBackCodeTry(session.id);
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
        how: 'passwordReset',
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
   * Takes one of the session's code tries, atomically with the check that one is left; returns
   * its number, 1-5. None left, or the session ended meanwhile: 401 RESET_SESSION_INVALID.
   */
  private async takeCodeTry(session: ResetSessionEntity): Promise<number> {
    const tryNumber = await this.sessions.takeCodeTry(
      session.id,
      MAX_RESET_CODE_FAILURES,
      this.clock.now(),
    );
    if (tryNumber === null) {
      throw new AppError(
        'RESET_SESSION_INVALID',
        'This password reset has expired or ended; ask for a new link.',
      );
    }
    return tryNumber;
  }

  /** A wrong code in the reset flow (its try stays spent): the 5th ends the session. Always throws. */
  private async wrongCode(
    session: ResetSessionEntity,
    user: UserEntity,
    ip: string,
    tryNumber: number,
  ): Promise<never> {
    if (tryNumber >= MAX_RESET_CODE_FAILURES) {
      await this.sessions.finishForWrongCodes(session.id, this.clock.now());
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
    m?: EntityManager,
  ): Promise<void> {
    await this.sessions.markTwoFactorVerified(session.id, this.clock.now(), m);
    await this.audit.record(
      { type, actorId: user.id, subjectId: user.id, clientIp: ip, flowId: session.flowId },
      m,
    );
  }
}
