import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { randomToken, sha256 } from '../common/crypto/tokens.js';
import type { Settings } from '../config/settings.js';
import { MailOutbox } from '../mail/mail-outbox.service.js';
import type { UserEntity } from '../users/user.entity.js';
import { ResetLinksRepository } from './reset-links.repository.js';

/**
 * Issues a reset link: kills the user's older links, stores the new one (its SHA-256 only) and
 * queues its mail, in one transaction. Used by the request (explicit disclosure) and by the
 * request queue's worker (generic disclosure).
 */
@Injectable()
export class ResetLinkIssuer {
  private readonly linkTtl: number;
  private readonly publicUrl: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly links: ResetLinksRepository,
    private readonly outbox: MailOutbox,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    config: ConfigService<Settings, true>,
  ) {
    this.linkTtl = config.get('reset', { infer: true }).linkTtl;
    this.publicUrl = config.get('http', { infer: true }).publicUrl;
  }

  /** `alsoIn` runs in the same transaction (the queue deletes its request there). */
  async issue(
    user: UserEntity,
    email: string,
    ip: string | null,
    alsoIn?: (m: EntityManager) => Promise<void>,
  ): Promise<void> {
    const token = randomToken();
    const now = this.clock.now();
    const flowId = randomUUID();
    await this.dataSource.transaction(async (m) => {
      // A newer request kills every older link.
      await this.links.revokeLiveLinks(user.id, now, m);
      await this.links.insert(
        {
          userId: user.id,
          flowId,
          tokenHash: sha256(token),
          createdAt: now,
          expiresAt: new Date(now.getTime() + this.linkTtl * 1000),
          usedAt: null,
          revokedAt: null,
        },
        m,
      );
      await this.outbox.enqueue(
        m,
        'password-reset',
        { email, locale: user.locale },
        {
          username: user.username,
          link: `${this.publicUrl}/reset-password?token=${token}`,
          validForSeconds: this.linkTtl,
        },
      );
      await this.audit.record(
        {
          type: 'password_reset.requested',
          actorId: user.id,
          subjectId: user.id,
          clientIp: ip,
          flowId,
        },
        m,
      );
      await alsoIn?.(m);
    });
  }
}
