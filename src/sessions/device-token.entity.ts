import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity.js';

/**
 * A device a user has fully signed in from (OWASP's "device cookie"). Only its SHA-256 is
 * stored. A login that presents it is limited by its own failures instead of the account's
 * lockout; after too many failures it is dead.
 */
@Entity('device_tokens')
@Index('device_tokens_user_idx', ['userId'])
export class DeviceTokenEntity {
  @PrimaryColumn({ name: 'token_hash', type: 'bytea' })
  tokenHash!: Buffer;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz' })
  lastUsedAt!: Date;

  @Column({ name: 'failed_logins', type: 'integer', default: 0 })
  failedLogins!: number;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  /** Declares the foreign key (ON DELETE CASCADE) so the schema and the entities agree; never loaded. */
  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'device_tokens_user_id_fkey' })
  user?: UserEntity;
}
