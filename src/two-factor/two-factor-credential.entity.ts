import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity.js';

/**
 * A user's TOTP authenticator. `enabledAt` is null while the user is still setting it up (the
 * secret was shown, no code proved yet). The secret is encrypted at rest.
 */
@Entity('two_factor_credentials')
export class TwoFactorCredentialEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ name: 'secret_sealed', type: 'text' })
  secretSealed!: string;

  @Column({ name: 'enabled_at', type: 'timestamptz', nullable: true })
  enabledAt!: Date | null;

  /** The last accepted RFC 6238 time step: a code is never accepted twice. */
  @Column({ name: 'last_used_step', type: 'integer', nullable: true })
  lastUsedStep!: number | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** Declares the foreign key (ON DELETE CASCADE); never loaded. */
  @OneToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'two_factor_credentials_user_id_fkey' })
  user?: UserEntity;
}
