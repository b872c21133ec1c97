import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { Locale } from '../i18n/locales.js';

@Entity('users')
// Case-insensitive uniqueness lives in expression indexes made by the migration.
@Index('users_username_lower_key', { synchronize: false })
@Index('users_email_lower_key', { synchronize: false })
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  username!: string;

  /** The bound address: the one login by email, reset links and mails use. */
  @Column({ type: 'varchar', length: 254, nullable: true })
  email!: string | null;

  /** The owner proved the bound address (or an admin set it and vouched for it). */
  @Column({ name: 'email_verified', type: 'boolean', default: false })
  emailVerified!: boolean;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string;

  @Column({ name: 'must_change_password', type: 'boolean', default: false })
  mustChangePassword!: boolean;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  roles!: string[];

  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  /** The language the user chose for pages and mails; null: not chosen (browser, then default). */
  @Column({ type: 'varchar', length: 16, nullable: true })
  locale!: Locale | null;

  @Column({ name: 'password_changed_at', type: 'timestamptz' })
  passwordChangedAt!: Date;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/**
 * Where a reset link for this user may go: the bound address, only when it is verified. An
 * account whose only address is unverified is treated as having none.
 */
export function resetAddress(user: Pick<UserEntity, 'email' | 'emailVerified'>): string | null {
  return user.email && user.emailVerified ? user.email : null;
}
