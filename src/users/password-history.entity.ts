import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Hashes of a user's recent passwords (the current one included), for PASSWORD_HISTORY. */
@Entity('password_history')
@Index('password_history_user_idx', ['userId', 'createdAt'])
export class PasswordHistoryEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
