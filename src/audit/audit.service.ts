import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import { Clock } from '../common/clock.js';
import { type AuditDetails, AuditEventEntity } from './audit-event.entity.js';

export type AuditEventType =
  | 'login.succeeded'
  | 'login.failed'
  | 'login.throttled'
  | 'token.refresh_reuse_detected'
  | 'logout'
  | 'access.forbidden'
  | 'password.changed'
  | 'email.change_requested'
  | 'email.change_refused'
  | 'email.change_cancelled'
  | 'email.verified'
  | 'email.verification_refused'
  | 'user.created'
  | 'user.updated'
  | 'user.disabled'
  | 'user.enabled'
  | 'user.deleted'
  | 'signing_key.rotated'
  | 'user.password_reset_by_admin'
  | 'login.two_factor_required'
  | 'two_factor.enabled'
  | 'two_factor.disabled'
  | 'two_factor.reset_by_admin'
  | 'two_factor.code_failed'
  | 'two_factor.code_replayed'
  | 'two_factor.recovery_code_used'
  | 'password_reset.requested'
  | 'password_reset.request_refused'
  | 'password_reset.link_opened'
  | 'password_reset.link_refused'
  | 'password_reset.two_factor_verified'
  | 'password_reset.two_factor_enrolled'
  | 'password_reset.session_killed'
  | 'password_reset.completed'
  | 'oidc_client.created'
  | 'oidc_client.updated'
  | 'oidc_client.deleted'
  | 'oidc_client.secret_rotated'
  | 'oidc.consent_granted';

export interface AuditRecord {
  type: AuditEventType;
  actorId?: string | null;
  subjectId?: string | null;
  clientIp?: string | null;
  flowId?: string | null;
  /** Never a password, token or hash. */
  details?: AuditDetails;
}

export interface AuditQuery {
  userId?: string;
  type?: string;
  page: number;
  pageSize: number;
}

@Injectable()
export class AuditService {
  constructor(
    @InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>,
    private readonly clock: Clock,
  ) {}

  /** Records an event; pass the transaction's manager so the event commits with the change. */
  async record(event: AuditRecord, manager?: EntityManager): Promise<void> {
    const repo = manager ? manager.getRepository(AuditEventEntity) : this.events;
    await repo.insert({
      type: event.type,
      actorId: event.actorId ?? null,
      subjectId: event.subjectId ?? null,
      clientIp: event.clientIp ?? null,
      flowId: event.flowId ?? null,
      details: event.details ?? {},
      occurredAt: this.clock.now(),
    });
  }

  async list(query: AuditQuery): Promise<{ items: AuditEventEntity[]; total: number }> {
    const qb = this.events.createQueryBuilder('e');
    if (query.userId) {
      qb.andWhere('(e.subject_id = :userId OR e.actor_id = :userId)', { userId: query.userId });
    }
    if (query.type) {
      qb.andWhere('e.type = :type', { type: query.type });
    }
    const [items, total] = await qb
      .orderBy('e.occurredAt', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .skip((query.page - 1) * query.pageSize)
      .take(query.pageSize)
      .getManyAndCount();
    return { items, total };
  }
}
