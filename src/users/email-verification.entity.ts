import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from './user.entity.js';

/**
 * A mailed link that confirms a new email address. Only the SHA-256 of its token is stored. While
 * it is neither used nor revoked (at most one per user) its address is the user's pending email.
 */
@Entity('email_verifications')
@Index('email_verifications_user_idx', ['userId'])
// Partial unique index (one live link per user), made by the migration.
@Index('email_verifications_live_key', { synchronize: false })
export class EmailVerificationEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** The address to bind, as the user typed it. */
  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Index('email_verifications_token_key', { unique: true })
  @Column({ name: 'token_hash', type: 'bytea' })
  tokenHash!: Buffer;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;

  /** Set when a newer request, a cancel, an admin's change of the email or a disable kills it. */
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  /** Declares the foreign key (ON DELETE CASCADE); never loaded. */
  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'email_verifications_user_id_fkey' })
  user?: UserEntity;
}
