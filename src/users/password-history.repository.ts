import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { PasswordHistoryEntity } from './password-history.entity.js';

/** The hashes of each user's recent passwords (the current one included). */
@Injectable()
export class PasswordHistoryRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private manager(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  /** The user's latest password hashes, newest first. */
  async recent(userId: string, limit: number, manager?: EntityManager): Promise<string[]> {
    if (limit <= 0) {
      return [];
    }
    const rows = await this.manager(manager)
      .getRepository(PasswordHistoryEntity)
      .find({
        select: { passwordHash: true },
        where: { userId },
        order: { createdAt: 'DESC' },
        take: limit,
      });
    return rows.map((r) => r.passwordHash);
  }

  /** Remembers a password hash and forgets those older than the last `keep`. */
  async add(
    userId: string,
    passwordHash: string,
    at: Date,
    keep: number,
    manager?: EntityManager,
  ): Promise<void> {
    const m = this.manager(manager);
    await m.getRepository(PasswordHistoryEntity).insert({ userId, passwordHash, createdAt: at });
    await m.query(
      `DELETE FROM password_history WHERE user_id = $1 AND id NOT IN (
         SELECT id FROM password_history WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2)`,
      [userId, Math.max(keep, 1)],
    );
  }

  /** The same password, hashed again with newer parameters: its history entry follows. */
  async replaceHash(
    userId: string,
    oldHash: string,
    newHash: string,
    manager?: EntityManager,
  ): Promise<void> {
    await this.manager(manager).query(
      `UPDATE password_history SET password_hash = $3 WHERE user_id = $1 AND password_hash = $2`,
      [userId, oldHash, newHash],
    );
  }
}
