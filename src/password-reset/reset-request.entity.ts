import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A reset request waiting for the worker, in `PASSWORD_RESET_DISCLOSURE=generic` mode. The
 * request answers as soon as this row is written, whatever the identifier names; the worker
 * resolves it, applies the account's allowance, and sends a link or nothing. The row is deleted
 * in the transaction that acts on it, so the table holds only requests not yet handled.
 */
@Entity('password_reset_requests')
@Index('password_reset_requests_due_idx', ['dueAt'])
export class ResetRequestEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  /** The username or email as typed (well-formed and free of invisible characters: see the DTO). */
  @Column({ type: 'varchar', length: 254 })
  identifier!: string;

  @Column({ name: 'client_ip', type: 'varchar', length: 64, nullable: true })
  clientIp!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** When a worker may take it: now when queued, later while a worker holds it. */
  @Column({ name: 'due_at', type: 'timestamptz' })
  dueAt!: Date;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;
}
