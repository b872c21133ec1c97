import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { Locale } from '../i18n/locales.js';

export type OutboxStatus = 'pending' | 'sent' | 'dead';

/**
 * A mail to send, written in the same transaction as the state it announces. Its context is
 * encrypted (a reset mail holds a live link) and erased once the mail is sent.
 */
@Entity('mail_outbox')
@Index('mail_outbox_due_idx', { synchronize: false })
export class MailOutboxEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  template!: string;

  @Column({ type: 'varchar', length: 254 })
  recipient!: string;

  /** The language, decided when the mail is queued; null (queued before 0.2): DEFAULT_LOCALE. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  locale!: Locale | null;

  @Column({ name: 'context_sealed', type: 'text', nullable: true })
  contextSealed!: string | null;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status!: OutboxStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz' })
  nextAttemptAt!: Date;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt!: Date | null;
}
