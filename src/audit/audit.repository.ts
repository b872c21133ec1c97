import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditEventEntity } from './audit-event.entity.js';

export interface AuditQuery {
  userId?: string;
  type?: string;
  page: number;
  pageSize: number;
}

/** The audit trail: written once, read by admins. */
@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private events(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(AuditEventEntity);
  }

  /**
   * Pass the transaction's manager so the event commits with the change. A plain INSERT: every
   * sign-in writes one, and the ORM's insert builder costs more CPU than the statement.
   */
  async insert(event: Omit<AuditEventEntity, 'id'>, manager?: EntityManager): Promise<void> {
    await (manager ?? this.dataSource.manager).query(
      `INSERT INTO audit_events (type, actor_id, subject_id, client_ip, flow_id, details, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        event.type,
        event.actorId,
        event.subjectId,
        event.clientIp,
        event.flowId,
        JSON.stringify(event.details),
        event.occurredAt,
      ],
    );
  }

  /** A page of events about or by a user, of one type, or all; newest first. */
  async page(query: AuditQuery): Promise<{ items: AuditEventEntity[]; total: number }> {
    const qb = this.events().createQueryBuilder('e');
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
