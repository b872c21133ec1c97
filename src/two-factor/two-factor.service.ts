import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { SecretBox } from '../common/crypto/secret-box.js';
import { AppError } from '../common/errors/app-error.js';
import type { Settings } from '../config/settings.js';
import type { Locale } from '../i18n/locales.js';
import { MailOutbox } from '../mail/mail-outbox.service.js';
import type { RecoveryCodeUse } from '../mail/mail-templates.js';
import { AttemptLimiter, type LimitedKey } from '../rate-limit/attempt-limiter.service.js';
import { TWO_FACTOR_POLICY } from '../rate-limit/backoff-policy.js';
import {
  acceptedStep,
  looksLikeRecoveryCode,
  newTotpSecret,
  otpauthUri,
  recoveryCodeHash,
} from './totp.js';
import type { TwoFactorCredentialEntity } from './two-factor-credential.entity.js';
import { TwoFactorRepository } from './two-factor.repository.js';

/** The QR code encoder, loaded on the first enrolment rather than at start (it is rarely used). */
async function qrCode(): Promise<typeof import('qrcode')> {
  return (await import('qrcode')).default;
}

/** What the 2FA code needs to know about a user; the users table stays UsersModule's. */
export interface TwoFactorUser {
  id: string;
  username: string;
  email: string | null;
  /** The language of the mails about it. */
  locale: Locale | null;
}

export interface Provisioning {
  secret: string;
  otpauthUri: string;
  qrCodeDataUrl: string;
}

export type CodeKind = 'totp' | 'recovery';

/** Where a code is checked: for the audit trail and the "recovery code used" mail. */
export interface CodeContext {
  ip: string | null;
  flowId: string | null;
  /** What for, in the "A recovery code was used" mail. */
  how: RecoveryCodeUse;
}

function sealLabel(userId: string): string {
  return `totp-secret:${userId}`;
}

function throttleKey(userId: string): LimitedKey {
  return { key: `two-factor:${userId}`, policy: TWO_FACTOR_POLICY };
}

/**
 * TOTP authenticators and recovery codes: secrets, and the checking of codes. Secrets are
 * encrypted at rest; a code once accepted is never accepted again; wrong codes are throttled per
 * user across every flow that asks for one. Turning 2FA on and off is TwoFactorEnrolment's.
 */
@Injectable()
export class TwoFactorService {
  private readonly issuer: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: TwoFactorRepository,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly limiter: AttemptLimiter,
    private readonly outbox: MailOutbox,
    private readonly audit: AuditService,
    config: ConfigService<Settings, true>,
  ) {
    this.issuer = config.get('totp', { infer: true }).issuer;
  }

  isEnabled(userId: string, manager?: EntityManager): Promise<boolean> {
    return this.repository.isEnabled(userId, manager);
  }

  enabledAmong(userIds: string[]): Promise<Set<string>> {
    return this.repository.enabledAmong(userIds);
  }

  /** A fresh secret with its otpauth URI and QR code, for an authenticator app to scan. */
  async provision(username: string, secret: string = newTotpSecret()): Promise<Provisioning> {
    const uri = otpauthUri(this.issuer, username, secret);
    return {
      secret,
      otpauthUri: uri,
      qrCodeDataUrl: await (await qrCode()).toDataURL(uri, { margin: 1, width: 256 }),
    };
  }

  sealSecret(userId: string, secret: string): string {
    return this.box.seal(secret, sealLabel(userId));
  }

  openSecret(userId: string, sealed: string): string {
    return this.box.open(sealed, sealLabel(userId)).toString('utf8');
  }

  /**
   * Checks a code against a secret that is not enrolled yet; returns its time step. The code
   * counts against the user before it is checked, like any other (a right one is cleared when
   * it is enrolled); a wrong one answers 400 INVALID_TOTP_CODE.
   */
  async checkNewSecret(
    userId: string,
    secret: string,
    code: string,
    ip: string | null,
    flowId: string | null = null,
  ): Promise<number> {
    const attempt = await this.limiter.reserve([throttleKey(userId)]);
    let step: number | null;
    try {
      step = await acceptedStep(secret, code, this.clock.nowSeconds(), null);
    } catch (error) {
      await attempt.refund();
      throw error;
    }
    if (step === null) {
      await this.recordWrongCode(userId, ip, flowId, false);
      throw new AppError(
        'INVALID_TOTP_CODE',
        'The code is not valid. Check the time on your phone and try the next code.',
      );
    }
    return step;
  }

  /** The user's wrong codes are forgotten (a new authenticator was just proven). */
  async forgetWrongCodes(userId: string): Promise<void> {
    await this.limiter.clear(throttleKey(userId).key);
  }

  /**
   * Checks a code from the user's enrolled authenticator, or one of their recovery codes. Each
   * is good once. The code counts against the user before it is checked, so parallel guesses
   * share the user's allowance: throws 429 when it is spent; returns null for a wrong code
   * (counted), so the caller answers with its own status. A right code clears the count.
   */
  async verify(user: TwoFactorUser, code: string, context: CodeContext): Promise<CodeKind | null> {
    const attempt = await this.limiter.reserve([throttleKey(user.id)]);
    let kind: CodeKind | 'replayed' | null;
    try {
      const credential = await this.repository.findEnabled(user.id);
      if (!credential) {
        // Nothing to check a code against: not a guess.
        await attempt.refund();
        return null;
      }
      kind = await this.checkCode(user, credential, code.trim(), context);
    } catch (error) {
      await attempt.refund();
      throw error;
    }
    if (!kind || kind === 'replayed') {
      await this.recordWrongCode(user.id, context.ip, context.flowId, kind === 'replayed');
      return null;
    }
    await this.forgetWrongCodes(user.id);
    return kind;
  }

  private async checkCode(
    user: TwoFactorUser,
    credential: TwoFactorCredentialEntity,
    code: string,
    context: CodeContext,
  ): Promise<CodeKind | 'replayed' | null> {
    if (/^\d{6}$/.test(code)) {
      const secret = this.openSecret(user.id, credential.secretSealed);
      const now = this.clock.nowSeconds();
      const step = await acceptedStep(secret, code, now, credential.lastUsedStep);
      if (step !== null && (await this.repository.claimStep(user.id, step))) {
        return 'totp';
      }
      // A right code that was already used (or lost the race to its twin): someone saw it.
      return (await acceptedStep(secret, code, now, null)) !== null ? 'replayed' : null;
    }
    if (looksLikeRecoveryCode(code) && (await this.useRecoveryCode(user, code, context))) {
      return 'recovery';
    }
    return null;
  }

  private async useRecoveryCode(
    user: TwoFactorUser,
    code: string,
    context: CodeContext,
  ): Promise<boolean> {
    return this.dataSource.transaction(async (m) => {
      const used = await this.repository.useRecoveryCode(
        user.id,
        recoveryCodeHash(code),
        this.clock.now(),
        m,
      );
      if (!used) {
        return false;
      }
      const remaining = await this.repository.unusedRecoveryCodes(user.id, m);
      if (user.email) {
        await this.outbox.enqueue(
          m,
          'recovery-code-used',
          { email: user.email, locale: user.locale },
          { username: user.username, how: context.how, remaining },
        );
      }
      await this.audit.record(
        {
          type: 'two_factor.recovery_code_used',
          actorId: user.id,
          subjectId: user.id,
          clientIp: context.ip,
          flowId: context.flowId,
          details: { remaining },
        },
        m,
      );
      return true;
    });
  }

  /** A wrong code, already counted by the reservation: the audit trail records it. */
  private async recordWrongCode(
    userId: string,
    ip: string | null,
    flowId: string | null,
    replayed: boolean,
  ): Promise<void> {
    await this.audit.record({
      type: replayed ? 'two_factor.code_replayed' : 'two_factor.code_failed',
      actorId: userId,
      subjectId: userId,
      clientIp: ip,
      flowId,
    });
  }
}
