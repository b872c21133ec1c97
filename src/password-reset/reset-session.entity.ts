import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity.js';

/** The steps after opening a reset link: 2FA first, then the new password. */
@Entity('password_reset_sessions')
@Index('password_reset_sessions_user_idx', ['userId'])
export class ResetSessionEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ name: 'flow_id', type: 'uuid' })
  flowId!: string;

  @Index('password_reset_sessions_token_key', { unique: true })
  @Column({ name: 'token_hash', type: 'bytea' })
  tokenHash!: Buffer;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'two_factor_verified_at', type: 'timestamptz', nullable: true })
  twoFactorVerifiedAt!: Date | null;

  @Column({ name: 'failed_codes', type: 'integer', default: 0 })
  failedCodes!: number;

  /** The authenticator secret offered to a user enrolling during the reset, until a code proves it. */
  @Column({ name: 'pending_secret_sealed', type: 'text', nullable: true })
  pendingSecretSealed!: string | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @Column({ name: 'finish_reason', type: 'varchar', length: 32, nullable: true })
  finishReason!: string | null;

  /** Declares the foreign key (ON DELETE CASCADE); never loaded. */
  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'password_reset_sessions_user_id_fkey' })
  user?: UserEntity;
}
