import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import QRCode from 'qrcode';
import { DataSource, type EntityManager, In, IsNull, Not } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { SecretBox } from '../common/crypto/secret-box.js';
import { AppError } from '../common/errors/app-error.js';
import type { Settings } from '../config/settings.js';
import { MailOutbox } from '../mail/mail-outbox.service.js';
import { AttemptLimiter, type LimitedKey } from '../rate-limit/attempt-limiter.service.js';
import { TWO_FACTOR_POLICY } from '../rate-limit/backoff-policy.js';
import { RecoveryCodeEntity } from './recovery-code.entity.js';
import {
  acceptedStep,
  looksLikeRecoveryCode,
  newRecoveryCodes,
  newTotpSecret,
  otpauthUri,
  recoveryCodeHash,
} from './totp.js';
import { TwoFactorCredentialEntity } from './two-factor-credential.entity.js';

/** What the 2FA code needs to know about a user; the users table stays UsersModule's. */
export interface TwoFactorUser {
  id: string;
  username: string;
  email: string | null;
}

export interface Provisioning {
  secret: string;
  otpauthUri: string;
  qrCodeDataUrl: string;
}

export type CodeKind = 'totp' | 'recovery';

function sealLabel(userId: string): string {
  return `totp-secret:${userId}`;
}

function throttleKey(userId: string): LimitedKey {
  return { key: `two-factor:${userId}`, policy: TWO_FACTOR_POLICY };
}

/**
 * TOTP authenticators and recovery codes. Secrets are encrypted at rest; a code once accepted is
 * never accepted again; wrong codes are throttled per user across every flow that asks for one.
 */
@Injectable()
export class TwoFactorService {
  private readonly issuer: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly limiter: AttemptLimiter,
    private readonly outbox: MailOutbox,
    private readonly audit: AuditService,
    config: ConfigService<Settings, true>,
  ) {
    this.issuer = config.get('totp', { infer: true }).issuer;
  }

  async isEnabled(
    userId: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<boolean> {
    return manager
      .getRepository(TwoFactorCredentialEntity)
      .existsBy({ userId, enabledAt: Not(IsNull()) });
  }

  async enabledAmong(userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) {
      return new Set();
    }
    const rows = await this.dataSource.getRepository(TwoFactorCredentialEntity).find({
      select: { userId: true },
      where: { userId: In(userIds), enabledAt: Not(IsNull()) },
    });
    return new Set(rows.map((r) => r.userId));
  }

  /** A fresh secret with its otpauth URI and QR code, for an authenticator app to scan. */
  async provision(username: string, secret: string = newTotpSecret()): Promise<Provisioning> {
    const uri = otpauthUri(this.issuer, username, secret);
    return {
      secret,
      otpauthUri: uri,
      qrCodeDataUrl: await QRCode.toDataURL(uri, { margin: 1, width: 256 }),
    };
  }

  sealSecret(userId: string, secret: string): string {
    return this.box.seal(secret, sealLabel(userId));
  }

  openSecret(userId: string, sealed: string): string {
    return this.box.open(sealed, sealLabel(userId)).toString('utf8');
  }

  /** Personal center, step 1: offer a new authenticator (replacing an unconfirmed one). */
  async startSetup(user: TwoFactorUser): Promise<Provisioning> {
    if (await this.isEnabled(user.id)) {
      throw new AppError(
        'TWO_FACTOR_ALREADY_CONFIGURED',
        'Two-factor authentication is already on; turn it off first.',
      );
    }
    const provisioning = await this.provision(user.username);
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(TwoFactorCredentialEntity)
      .values({
        userId: user.id,
        secretSealed: this.sealSecret(user.id, provisioning.secret),
        enabledAt: null,
        lastUsedStep: null,
        createdAt: this.clock.now(),
      })
      .orUpdate(['secret_sealed', 'created_at', 'last_used_step'], ['user_id'])
      .execute();
    return provisioning;
  }

  /** Personal center, step 2: a code from the new authenticator turns 2FA on. */
  async confirmSetup(user: TwoFactorUser, code: string, ip: string | null): Promise<string[]> {
    const pending = await this.dataSource
      .getRepository(TwoFactorCredentialEntity)
      .findOneBy({ userId: user.id });
    if (pending?.enabledAt) {
      throw new AppError(
        'TWO_FACTOR_ALREADY_CONFIGURED',
        'Two-factor authentication is already on.',
      );
    }
    if (!pending) {
      throw new AppError(
        'TWO_FACTOR_SETUP_REQUIRED',
        'Start with POST /api/v1/me/two-factor/setup.',
      );
    }
    const step = await this.checkNewSecret(
      user.id,
      this.openSecret(user.id, pending.secretSealed),
      code,
      ip,
    );
    return this.dataSource.transaction((m) =>
      this.enrolIn(m, user, this.openSecret(user.id, pending.secretSealed), step, {
        ip,
        flowId: null,
      }),
    );
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

  /** Turns 2FA on with a proven secret, inside the caller's transaction; returns recovery codes. */
  async enrolIn(
    m: EntityManager,
    user: TwoFactorUser,
    secret: string,
    step: number,
    context: { ip: string | null; flowId: string | null },
  ): Promise<string[]> {
    const now = this.clock.now();
    await m
      .createQueryBuilder()
      .insert()
      .into(TwoFactorCredentialEntity)
      .values({
        userId: user.id,
        secretSealed: this.sealSecret(user.id, secret),
        enabledAt: now,
        lastUsedStep: step,
        createdAt: now,
      })
      .orUpdate(['secret_sealed', 'enabled_at', 'last_used_step', 'created_at'], ['user_id'])
      .execute();
    const codes = newRecoveryCodes();
    await m.getRepository(RecoveryCodeEntity).delete({ userId: user.id });
    await m.getRepository(RecoveryCodeEntity).insert(
      codes.map((c) => ({
        userId: user.id,
        codeHash: recoveryCodeHash(c),
        createdAt: now,
        usedAt: null,
      })),
    );
    if (user.email) {
      await this.outbox.enqueue(m, 'two-factor-enabled', user.email, { username: user.username });
    }
    await this.audit.record(
      {
        type: 'two_factor.enabled',
        actorId: user.id,
        subjectId: user.id,
        clientIp: context.ip,
        flowId: context.flowId,
      },
      m,
    );
    await this.limiter.clear(throttleKey(user.id).key);
    return codes;
  }

  /**
   * Checks a code from the user's enrolled authenticator, or one of their recovery codes. Each
   * is good once. The code counts against the user before it is checked, so parallel guesses
   * share the user's allowance: throws 429 when it is spent; returns null for a wrong code
   * (counted), so the caller answers with its own status. A right code clears the count.
   */
  async verify(
    user: TwoFactorUser,
    code: string,
    context: { ip: string | null; flowId: string | null; how: string },
  ): Promise<CodeKind | null> {
    const attempt = await this.limiter.reserve([throttleKey(user.id)]);
    let kind: CodeKind | 'replayed' | null;
    try {
      const credential = await this.dataSource
        .getRepository(TwoFactorCredentialEntity)
        .findOneBy({ userId: user.id, enabledAt: Not(IsNull()) });
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
    await this.limiter.clear(throttleKey(user.id).key);
    return kind;
  }

  private async checkCode(
    user: TwoFactorUser,
    credential: TwoFactorCredentialEntity,
    code: string,
    context: { ip: string | null; flowId: string | null; how: string },
  ): Promise<CodeKind | 'replayed' | null> {
    if (/^\d{6}$/.test(code)) {
      const secret = this.openSecret(user.id, credential.secretSealed);
      const now = this.clock.nowSeconds();
      const step = await acceptedStep(secret, code, now, credential.lastUsedStep);
      if (step !== null && (await this.claimStep(user.id, step))) {
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

  /** Turns 2FA off (the caller has checked the password): removes the authenticator and codes. */
  async disable(
    user: TwoFactorUser,
    how: 'by you' | 'by an administrator',
    actor: { id: string | null; ip: string | null },
  ): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const removed = await m.getRepository(TwoFactorCredentialEntity).delete({ userId: user.id });
      await m.getRepository(RecoveryCodeEntity).delete({ userId: user.id });
      if (!removed.affected) {
        return;
      }
      if (user.email) {
        await this.outbox.enqueue(m, 'two-factor-disabled', user.email, {
          username: user.username,
          how,
        });
      }
      await this.audit.record(
        {
          type: how === 'by you' ? 'two_factor.disabled' : 'two_factor.reset_by_admin',
          actorId: actor.id,
          subjectId: user.id,
          clientIp: actor.ip,
        },
        m,
      );
    });
  }

  /** Records the new step only if it is newer than the last one: a replay loses the race. */
  private async claimStep(userId: string, step: number): Promise<boolean> {
    const [, affected] = await this.dataSource.query<[unknown[], number]>(
      `UPDATE two_factor_credentials SET last_used_step = $2
        WHERE user_id = $1 AND (last_used_step IS NULL OR last_used_step < $2)`,
      [userId, step],
    );
    return affected === 1;
  }

  private async useRecoveryCode(
    user: TwoFactorUser,
    code: string,
    context: { ip: string | null; flowId: string | null; how: string },
  ): Promise<boolean> {
    return this.dataSource.transaction(async (m) => {
      const [, affected] = await m.query<[unknown[], number]>(
        `UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`,
        [user.id, recoveryCodeHash(code), this.clock.now()],
      );
      if (affected !== 1) {
        return false;
      }
      const remaining = await m
        .getRepository(RecoveryCodeEntity)
        .countBy({ userId: user.id, usedAt: IsNull() });
      if (user.email) {
        await this.outbox.enqueue(m, 'recovery-code-used', user.email, {
          username: user.username,
          how: context.how,
          remaining,
        });
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
