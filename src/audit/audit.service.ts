import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import type { AuditDetails, AuditEventEntity } from './audit-event.entity.js';
import { type AuditQuery, AuditRepository } from './audit.repository.js';

/** Every kind of audit event (the admin console offers them as a filter). */
export const AUDIT_EVENT_TYPES = [
  'login.succeeded',
  'login.failed',
  'login.throttled',
  'token.refresh_reuse_detected',
  'logout',
  'access.forbidden',
  'password.changed',
  'email.change_requested',
  'email.change_refused',
  'email.change_cancelled',
  'email.verified',
  'email.verification_refused',
  'user.created',
  'user.updated',
  'user.disabled',
  'user.enabled',
  'user.deleted',
  'signing_key.rotated',
  'user.password_reset_by_admin',
  'login.two_factor_required',
  'two_factor.enabled',
  'two_factor.disabled',
  'two_factor.reset_by_admin',
  'two_factor.code_failed',
  'two_factor.code_replayed',
  'two_factor.recovery_code_used',
  'password_reset.requested',
  'password_reset.request_refused',
  'password_reset.link_opened',
  'password_reset.link_refused',
  'password_reset.two_factor_verified',
  'password_reset.two_factor_enrolled',
  'password_reset.session_killed',
  'password_reset.completed',
  'oidc_client.created',
  'oidc_client.updated',
  'oidc_client.deleted',
  'oidc_client.secret_rotated',
  'oidc.consent_granted',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface AuditRecord {
  type: AuditEventType;
  actorId?: string | null;
  subjectId?: string | null;
  clientIp?: string | null;
  flowId?: string | null;
  /** Never a password, token or hash. */
  details?: AuditDetails;
}

@Injectable()
export class AuditService {
  constructor(
    private readonly events: AuditRepository,
    private readonly clock: Clock,
  ) {}

  /** Records an event; pass the transaction's manager so the event commits with the change. */
  async record(event: AuditRecord, manager?: EntityManager): Promise<void> {
    await this.events.insert(
      {
        type: event.type,
        actorId: event.actorId ?? null,
        subjectId: event.subjectId ?? null,
        clientIp: event.clientIp ?? null,
        flowId: event.flowId ?? null,
        details: event.details ?? {},
        occurredAt: this.clock.now(),
      },
      manager,
    );
  }

  list(query: AuditQuery): Promise<{ items: AuditEventEntity[]; total: number }> {
    return this.events.page(query);
  }
}
