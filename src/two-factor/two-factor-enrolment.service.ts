import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { AppError } from '../common/errors/app-error.js';
import { MailOutbox } from '../mail/mail-outbox.service.js';
import type { TwoFactorOffBy } from '../mail/mail-templates.js';
import { newRecoveryCodes, recoveryCodeHash } from './totp.js';
import { TwoFactorRepository } from './two-factor.repository.js';
import { type Provisioning, TwoFactorService, type TwoFactorUser } from './two-factor.service.js';

/** Runs inside the transaction that turns a user's 2FA on or off. */
export type TwoFactorChangeHook = (manager: EntityManager, userId: string) => Promise<void>;

/**
 * Turning two-factor authentication on (from the personal center, or during a password reset)
 * and off. Every change is mailed to the user, when they have an address, and audited.
 */
@Injectable()
export class TwoFactorEnrolment {
  private readonly changeHooks: TwoFactorChangeHook[] = [];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: TwoFactorRepository,
    private readonly twoFactor: TwoFactorService,
    private readonly clock: Clock,
    private readonly outbox: MailOutbox,
    private readonly audit: AuditService,
  ) {}

  /** Others follow every change of whether a user has 2FA on (the users' cached state does). */
  onChange(hook: TwoFactorChangeHook): void {
    this.changeHooks.push(hook);
  }

  private async changedIn(m: EntityManager, userId: string): Promise<void> {
    for (const hook of this.changeHooks) {
      await hook(m, userId);
    }
  }

  /** Personal center, step 1: offer a new authenticator (replacing an unconfirmed one). */
  async startSetup(user: TwoFactorUser): Promise<Provisioning> {
    const alreadyOn = () =>
      new AppError(
        'TWO_FACTOR_ALREADY_CONFIGURED',
        'Two-factor authentication is already on; turn it off first.',
      );
    if (await this.twoFactor.isEnabled(user.id)) {
      throw alreadyOn();
    }
    const provisioning = await this.twoFactor.provision(user.username);
    // Refused, not overwritten, if the authenticator was enabled since the check above.
    const saved = await this.repository.savePending(
      user.id,
      this.twoFactor.sealSecret(user.id, provisioning.secret),
      this.clock.now(),
    );
    if (!saved) {
      throw alreadyOn();
    }
    return provisioning;
  }

  /** Personal center, step 2: a code from the new authenticator turns 2FA on. */
  async confirmSetup(user: TwoFactorUser, code: string, ip: string | null): Promise<string[]> {
    const pending = await this.repository.find(user.id);
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
    const step = await this.twoFactor.checkNewSecret(
      user.id,
      this.twoFactor.openSecret(user.id, pending.secretSealed),
      code,
      ip,
    );
    return this.dataSource.transaction((m) =>
      this.enrolIn(m, user, this.twoFactor.openSecret(user.id, pending.secretSealed), step, {
        ip,
        flowId: null,
      }),
    );
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
    await this.repository.saveEnabled(
      user.id,
      this.twoFactor.sealSecret(user.id, secret),
      step,
      now,
      m,
    );
    const codes = newRecoveryCodes();
    await this.repository.replaceRecoveryCodes(user.id, codes.map(recoveryCodeHash), now, m);
    if (user.email) {
      await this.outbox.enqueue(
        m,
        'two-factor-enabled',
        { email: user.email, locale: user.locale },
        { username: user.username },
      );
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
    await this.changedIn(m, user.id);
    await this.twoFactor.forgetWrongCodes(user.id);
    return codes;
  }

  /** Turns 2FA off (the caller has checked the password): removes the authenticator and codes. */
  async disable(
    user: TwoFactorUser,
    how: TwoFactorOffBy,
    actor: { id: string | null; ip: string | null },
  ): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      if (!(await this.repository.remove(user.id, m))) {
        return;
      }
      if (user.email) {
        await this.outbox.enqueue(
          m,
          'two-factor-disabled',
          { email: user.email, locale: user.locale },
          { username: user.username, how },
        );
      }
      await this.audit.record(
        {
          type: how === 'byUser' ? 'two_factor.disabled' : 'two_factor.reset_by_admin',
          actorId: actor.id,
          subjectId: user.id,
          clientIp: actor.ip,
        },
        m,
      );
      await this.changedIn(m, user.id);
    });
  }
}
