import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, IsNull } from 'typeorm';
import { SigningKeyEntity } from './signing-key.entity.js';

/** Any fixed number; the same for every instance: one rotation at a time. */
const ROTATION_LOCK_ID = 7_301_604_113;

/** The stored signing keys: one active (retiredAt null), the others retired. */
@Injectable()
export class SigningKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private keys(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(SigningKeyEntity);
  }

  /**
   * Makes the rest of `manager`'s transaction the only one creating or rotating keys, on every
   * instance (a transaction-scoped advisory lock).
   */
  async lockForRotation(manager: EntityManager): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [ROTATION_LOCK_ID]);
  }

  hasActive(manager?: EntityManager): Promise<boolean> {
    return this.keys(manager).existsBy({ retiredAt: IsNull() });
  }

  findActive(manager?: EntityManager): Promise<SigningKeyEntity | null> {
    return this.keys(manager).findOneBy({ retiredAt: IsNull() });
  }

  async retireActive(at: Date, manager?: EntityManager): Promise<void> {
    await this.keys(manager).update({ retiredAt: IsNull() }, { retiredAt: at });
  }

  async insert(key: SigningKeyEntity, manager?: EntityManager): Promise<void> {
    await this.keys(manager).insert(key);
  }

  /** The newest keys first, at most `limit`. */
  newest(limit: number): Promise<SigningKeyEntity[]> {
    return this.keys().find({ order: { createdAt: 'DESC' }, take: limit });
  }

  /** The active key and those retired after `since`, newest first. */
  activeAndRetiredAfter(since: Date): Promise<SigningKeyEntity[]> {
    return this.keys()
      .createQueryBuilder('k')
      .where('k.retired_at IS NULL OR k.retired_at > :since', { since })
      .orderBy('k.created_at', 'DESC')
      .getMany();
  }
}
