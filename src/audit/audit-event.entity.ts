import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Event facts; never a password, token or hash. */
/** What an audit event may say: plain JSON (never a password, token or hash). */
export type AuditValue =
  string | number | boolean | null | AuditValue[] | { [key: string]: AuditValue };
export type AuditDetails = Record<string, AuditValue>;

@Entity('audit_events')
@Index('audit_events_subject_idx', ['subjectId', 'occurredAt'])
@Index('audit_events_type_idx', ['type', 'occurredAt'])
@Index('audit_events_time_idx', ['occurredAt'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  type!: string;

  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId!: string | null;

  @Column({ name: 'subject_id', type: 'uuid', nullable: true })
  subjectId!: string | null;

  @Column({ name: 'client_ip', type: 'varchar', length: 64, nullable: true })
  clientIp!: string | null;

  @Column({ name: 'flow_id', type: 'uuid', nullable: true })
  flowId!: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  // Typed loosely here (TypeORM's deep partials cannot follow a recursive type); AuditRecord
  // says what may be written.
  details!: object;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;
}
