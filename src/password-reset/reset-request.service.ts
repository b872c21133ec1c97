import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AuditService } from '../audit/audit.service.js';
import { AppError } from '../common/errors/app-error.js';
import { describeDuration } from '../config/duration.js';
import type { ResetDisclosure, Settings } from '../config/settings.js';
import { AttemptLimiter, type LimitedKey } from '../rate-limit/attempt-limiter.service.js';
import { RESET_CLIENT_POLICY, RESET_REQUEST_POLICY } from '../rate-limit/backoff-policy.js';
import { clientBucket } from '../rate-limit/client-address.js';
import { typedIdentifier } from '../rate-limit/login-throttle.js';
import { resetAddress } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { ResetLinkIssuer } from './reset-link-issuer.service.js';
import { accountAllowanceKey, ResetRequestQueue } from './reset-request.queue.js';

/** Step 1 of the forgot-password flow: asking for a link. */
@Injectable()
export class ResetRequestService {
  private readonly linkTtl: number;
  private readonly disclosure: ResetDisclosure;

  constructor(
    private readonly users: UsersService,
    private readonly links: ResetLinkIssuer,
    private readonly queue: ResetRequestQueue,
    private readonly limiter: AttemptLimiter,
    private readonly audit: AuditService,
    config: ConfigService<Settings, true>,
  ) {
    const reset = config.get('reset', { infer: true });
    this.linkTtl = reset.linkTtl;
    this.disclosure = reset.disclosure;
  }

  /**
   * A user asks for a link by username or email. Every request counts against the
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
}
