import { randomUUID } from 'node:crypto';
import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { AppError } from '../common/errors/app-error.js';
import { AttemptLimiter } from '../rate-limit/attempt-limiter.service.js';
import { RESET_REQUEST_POLICY } from '../rate-limit/backoff-policy.js';
import { resetAddress, type UserEntity } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { ResetLinkIssuer } from './reset-link-issuer.service.js';
import { type ClaimedRequest, ResetRequestsRepository } from './reset-requests.repository.js';

/** The safety net: every instance looks for waiting requests this often (a new one is handled at once). */
export const RESET_QUEUE_POLL_MS = 1_000;
/** A claimed request is offered again after this long, so a crashed worker's request is retried. */
const CLAIM_LEASE_MS = 30_000;
const BATCH_SIZE = 20;
/** A request that failed this many times is dropped (and logged) rather than retried forever. */
const MAX_ATTEMPTS = 5;

/** Links an account may be sent before it must wait (its username and email share it). */
export function accountAllowanceKey(userId: string): string {
  return `reset-account:${userId}`;
}

/** Why a queued request sends nothing; recorded in the audit trail, never shown to the caller. */
type Refusal = 'unknown_identifier' | 'no_email' | 'disabled' | 'over_allowance';

/**
 * Reset requests in `PASSWORD_RESET_DISCLOSURE=generic` mode. The request path only counts the
 * attempt and writes one row (`enqueue`), the same work for an unknown name, an account without
 * email and an account with one, so neither its answer nor its timing tells them apart. This
 * worker then resolves the identifier, applies the account's own allowance (over it, nothing is
 * sent) and issues the link, deleting the row in the same transaction: each request is acted on
 * once. Runs in every instance; rows are claimed with FOR UPDATE SKIP LOCKED.
 */
@Injectable()
export class ResetRequestQueue implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ResetRequestQueue');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly requests: ResetRequestsRepository,
    private readonly users: UsersService,
    private readonly links: ResetLinkIssuer,
    private readonly limiter: AttemptLimiter,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), RESET_QUEUE_POLL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Queues a request; the worker is woken after the answer is on its way. */
  async enqueue(identifier: string, ip: string): Promise<void> {
    const now = this.clock.now();
    await this.requests.insert({
      id: randomUUID(),
      identifier,
      clientIp: ip,
      createdAt: now,
      dueAt: now,
      attempts: 0,
    });
    setImmediate(() => this.kick());
  }

  /** Starts a pass, or asks the running one for another round. */
  kick(): void {
    if (this.stopped) {
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: unknown) => this.logger.warn(`reset queue pass failed: ${String(error)}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Handles every waiting request; resolves when none is due. */
  async drain(): Promise<void> {
    for (;;) {
      this.again = false;
      const now = this.clock.now();
      const rows = await this.requests.claimDueRequests(
        now,
        new Date(now.getTime() + CLAIM_LEASE_MS),
        BATCH_SIZE,
      );
      for (const row of rows) {
        await this.handleOrRetry(row);
      }
      if (rows.length < BATCH_SIZE || this.stopped) {
        return;
      }
    }
  }

  private async handleOrRetry(row: ClaimedRequest): Promise<void> {
    try {
      await this.handle(row);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (row.attempts < MAX_ATTEMPTS) {
        this.logger.warn(`reset request ${row.id} failed (attempt ${row.attempts}): ${message}`);
        return; // offered again when its lease ends
      }
      this.logger.error(
        `reset request ${row.id} failed ${row.attempts} times; dropping it: ${message}`,
      );
      await this.requests.delete(row.id);
    }
  }

  private async handle(row: ClaimedRequest): Promise<void> {
    const done = async (m: EntityManager): Promise<void> => {
      await this.requests.delete(row.id, m);
    };
    const user = await this.users.findByLogin(row.identifier);
    const refusal = await this.refusal(user);
    const email = user ? resetAddress(user) : null;
    if (refusal || !user || !email) {
      await this.dataSource.transaction(async (m) => {
        await this.audit.record(
          {
            type: 'password_reset.request_refused',
            subjectId: user?.id ?? null,
            clientIp: row.client_ip,
            details: {
              reason: refusal ?? 'no_email',
              ...(user ? {} : { identifier: row.identifier }),
            },
          },
          m,
        );
        await done(m);
      });
      return;
    }
    await this.links.issue(user, email, row.client_ip, done);
  }

  /** Why this request must send nothing, counting it against the account's allowance otherwise. */
  private async refusal(user: UserEntity | null): Promise<Refusal | null> {
    if (!user) {
      return 'unknown_identifier';
    }
    // Only a verified address gets a link: an account whose only address is unverified has none.
    if (!resetAddress(user)) {
      return 'no_email';
    }
    if (user.disabled) {
      return 'disabled';
    }
    try {
      await this.limiter.reserve([
        { key: accountAllowanceKey(user.id), policy: RESET_REQUEST_POLICY },
      ]);
      return null;
    } catch (error) {
      if (error instanceof AppError && error.code === 'TOO_MANY_ATTEMPTS') {
        return 'over_allowance';
      }
      throw error;
    }
  }
}
