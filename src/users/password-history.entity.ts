import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from './user.entity.js';

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

  /** Declares the foreign key (ON DELETE CASCADE) so the schema and the entities agree; never loaded. */
  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'password_history_user_id_fkey' })
  user?: UserEntity;
}
