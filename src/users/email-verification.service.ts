import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { randomToken, sha256 } from '../common/crypto/tokens.js';
import { AppError } from '../common/errors/app-error.js';
import { describeDuration } from '../config/duration.js';
import type { Settings } from '../config/settings.js';
import { MailOutbox } from '../mail/mail-outbox.service.js';
import { AttemptLimiter } from '../rate-limit/attempt-limiter.service.js';
import {
  EMAIL_CONFIRMATION_CLIENT_POLICY,
  EMAIL_CONFIRMATION_POLICY,
  EMAIL_VERIFY_CLIENT_POLICY,
} from '../rate-limit/backoff-policy.js';
import { clientBucket } from '../rate-limit/client-address.js';
import type { EmailVerificationEntity } from './email-verification.entity.js';
import { EmailVerificationsRepository } from './email-verifications.repository.js';
import { isVerifiedAddress } from './email-rules.js';
import { PasswordsService } from './passwords.service.js';
import { UserStateService } from './user-state.service.js';
import { UsersRepository } from './users.repository.js';
import { UsersService, type UserView } from './users.service.js';

/** The answer to a change request: where the link went and for how many seconds it works. */
export interface PendingEmail {
  pendingEmail: string;
  expiresIn: number;
}

type VerificationRefusal =
  | 'EMAIL_VERIFICATION_INVALID'
  | 'EMAIL_VERIFICATION_USED'
  | 'EMAIL_VERIFICATION_EXPIRED'
  | 'EMAIL_TAKEN';

/**
 * A user's new email address is bound only once its owner proves it: the change request mails a
 * single-use link to the new address, and posting the link's token binds it (verified), tells the
 * previous address and, like every change of the address, ends live password resets. Until then
 * the account keeps its previous address for everything (sign-in, resets, mails).
 */
@Injectable()
export class EmailVerificationService {
  private readonly ttl: number;
  private readonly publicUrl: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly passwords: PasswordsService,
    private readonly repository: UsersRepository,
    private readonly links: EmailVerificationsRepository,
    private readonly userState: UserStateService,
    private readonly outbox: MailOutbox,
    private readonly limiter: AttemptLimiter,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    config: ConfigService<Settings, true>,
  ) {
    this.ttl = config.get('emailVerification', { infer: true }).ttl;
    this.publicUrl = config.get('http', { infer: true }).publicUrl;
  }

  /**
   * The user asks to bind `email` (their current password proves it is them): a confirmation link
   * goes to that address, and an older link dies.
   */
  async requestChange(
    userId: string,
    email: string,
    currentPassword: string,
    ip: string,
  ): Promise<PendingEmail> {
    const user = await this.passwords.verifyOwn(userId, currentPassword, ip);
    if (isVerifiedAddress(user, email)) {
      throw new AppError('EMAIL_UNCHANGED', 'This is already your verified email address.');
    }
    return this.sendLink(userId, email, ip, false);
  }

  /** A new link for the address waiting for confirmation (the mail was lost, or is too old). */
  async resend(userId: string, ip: string): Promise<PendingEmail> {
    const pending = (await this.links.pendingEmails([userId], this.clock.now())).get(userId);
    if (!pending) {
      throw new AppError(
        'NO_PENDING_EMAIL',
        'No email address is waiting for confirmation: ask to change the email first.',
      );
    }
    return this.sendLink(userId, pending, ip, true);
  }

  /** The user drops the change they asked for: its link dies. Nothing pending is not an error. */
  async cancel(userId: string, ip: string): Promise<void> {
    await this.dataSource.transaction((m) =>
      this.users.cancelPendingEmailIn(m, userId, { id: userId, ip }, 'cancelled'),
    );
  }

  /**
   * The link's token binds its address. The link is locked and used up in the transaction that
   * binds the address (of two parallel uses, one wins; the other finds it used). Every refusal
   * counts against the client address (no one tries tokens for long) and is recorded.
   */
  async verify(token: string, ip: string): Promise<UserView> {
    const attempt = await this.limiter.reserve([
      { key: `email-verify-client:${clientBucket(ip)}`, policy: EMAIL_VERIFY_CLIENT_POLICY },
    ]);
    const now = this.clock.now();
    type Outcome = { refusal: VerificationRefusal } | { userId: string };
    let subjectId: string | null = null;
    const refused = (refusal: VerificationRefusal, m?: EntityManager) =>
      this.audit.record(
        {
          type: 'email.verification_refused',
          subjectId,
          clientIp: ip,
          details: { reason: refusal },
        },
        m,
      );
    let outcome: Outcome;
    try {
      outcome = await this.dataSource.transaction(async (m): Promise<Outcome> => {
        const link = await this.links.lockByToken(sha256(token), m);
        subjectId = link?.userId ?? null;
        const refusal = await this.refusal(m, link, now);
        if (refusal || !link) {
          await refused(refusal ?? 'EMAIL_VERIFICATION_INVALID', m);
          return { refusal: refusal ?? 'EMAIL_VERIFICATION_INVALID' };
        }
        await this.links.consumeLink(link.id, now, m);
        const before = await this.users.bindVerifiedEmailIn(m, link.userId, link.email);
        // The previous address, if any, is told (not when the user only confirmed it again).
        const previous =
          before.email && before.email.toLowerCase() !== link.email.toLowerCase()
            ? before.email
            : null;
        if (previous) {
          await this.outbox.enqueue(
            m,
            'email-changed',
            { email: previous, locale: before.locale },
            { username: before.username, newEmail: link.email },
          );
        }
        await this.audit.record(
          {
            type: 'email.verified',
            actorId: link.userId,
            subjectId: link.userId,
            clientIp: ip,
            details: { email: link.email, replaced: previous !== null },
          },
          m,
        );
        return { userId: link.userId };
      });
    } catch (error) {
      // Someone else bound the address between the check and the update: the unique index said so.
      if (error instanceof AppError && error.code === 'EMAIL_TAKEN') {
        await attempt.refund();
        await refused('EMAIL_TAKEN');
      }
      throw error;
    }
    if ('refusal' in outcome) {
      if (outcome.refusal === 'EMAIL_TAKEN') {
        await attempt.refund(); // a real link: nobody was guessing
      }
      throw this.refusalError(outcome.refusal);
    }
    await attempt.refund();
    return this.users.get(outcome.userId);
  }

  /**
   * Every request counts against the user and the client address before anything is checked or
   * sent (like reset requests), so that nobody floods a mailbox or probes which addresses exist.
   */
  private async sendLink(
    userId: string,
    email: string,
    ip: string,
    resent: boolean,
  ): Promise<PendingEmail> {
    await this.limiter.reserve([
      { key: `email-confirmation:${userId}`, policy: EMAIL_CONFIRMATION_POLICY },
      {
        key: `email-confirmation-client:${clientBucket(ip)}`,
        policy: EMAIL_CONFIRMATION_CLIENT_POLICY,
      },
    ]);
    if (await this.repository.emailTakenByOther(email, userId)) {
      await this.audit.record({
        type: 'email.change_refused',
        actorId: userId,
        subjectId: userId,
        clientIp: ip,
        details: { reason: 'EMAIL_TAKEN' },
      });
      throw new AppError('EMAIL_TAKEN', 'Another user already has this email address.');
    }
    const token = randomToken();
    const now = this.clock.now();
    await this.dataSource.transaction(async (m) => {
      // The user's row lock makes concurrent requests take turns: one live link at a time.
      const user = await this.repository.lockById(userId, m);
      await this.links.revokeLiveLinks(userId, now, m);
      await this.links.insert(
        {
          userId,
          email,
          tokenHash: sha256(token),
          createdAt: now,
          expiresAt: new Date(now.getTime() + this.ttl * 1000),
          usedAt: null,
          revokedAt: null,
        },
        m,
      );
      await this.userState.changedIn(m, userId); // `pendingEmail`
      await this.outbox.enqueue(
        m,
        'email-verification',
        { email, locale: user.locale },
        {
          username: user.username,
          link: `${this.publicUrl}/verify-email?token=${token}`,
          validForSeconds: this.ttl,
        },
      );
      await this.audit.record(
        {
          type: 'email.change_requested',
          actorId: userId,
          subjectId: userId,
          clientIp: ip,
          details: { email, ...(resent ? { resent: true } : {}) },
        },
        m,
      );
    });
    return { pendingEmail: email, expiresIn: this.ttl };
  }

  /** Why a link cannot bind its address now, or null when it can. Checked before it is used up. */
  private async refusal(
    m: EntityManager,
    link: EmailVerificationEntity | null,
    now: Date,
  ): Promise<VerificationRefusal | null> {
    if (!link || link.revokedAt) {
      return 'EMAIL_VERIFICATION_INVALID';
    }
    if (link.usedAt) {
      return 'EMAIL_VERIFICATION_USED';
    }
    if (link.expiresAt <= now) {
      return 'EMAIL_VERIFICATION_EXPIRED';
    }
    const user = await this.repository.findByIdForUpdate(link.userId, m);
    if (!user || user.disabled) {
      return 'EMAIL_VERIFICATION_INVALID';
    }
    if (await this.repository.emailTakenByOther(link.email, link.userId, m)) {
      return 'EMAIL_TAKEN';
    }
    return null;
  }

  private refusalError(code: VerificationRefusal): AppError {
    const detail = {
      EMAIL_VERIFICATION_INVALID:
        'This confirmation link is not valid (a newer one may have been sent, or the change was cancelled). Ask for a new link from your account page.',
      EMAIL_VERIFICATION_USED: 'This confirmation link was already used.',
      EMAIL_VERIFICATION_EXPIRED: `This confirmation link has expired (links are valid for ${describeDuration(this.ttl)}). Ask for a new link from your account page.`,
      EMAIL_TAKEN: 'Another user has bound this email address meanwhile.',
    }[code];
    return new AppError(code, detail);
  }
}
