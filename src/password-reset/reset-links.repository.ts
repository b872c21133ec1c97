import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, IsNull } from 'typeorm';
import { ResetLinkEntity } from './reset-link.entity.js';

/** The emailed reset links (by the SHA-256 of their token). */
@Injectable()
export class ResetLinksRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private links(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(ResetLinkEntity);
  }

  async insert(link: Omit<ResetLinkEntity, 'id' | 'user'>, manager?: EntityManager): Promise<void> {
    await this.links(manager).insert(link);
  }

  /** The link with this token hash, its row locked for the rest of the transaction. */
  lockByToken(tokenHash: Buffer, manager: EntityManager): Promise<ResetLinkEntity | null> {
    return this.links(manager)
      .createQueryBuilder('l')
      .setLock('pessimistic_write')
      .where('l.token_hash = :hash', { hash: tokenHash })
      .getOne();
  }

  /** The link was opened: it cannot be opened again. */
  async consumeLink(id: string, at: Date, manager?: EntityManager): Promise<void> {
    await this.links(manager).update({ id }, { usedAt: at });
  }

  /** Kills every link of the user that is neither used nor revoked yet. */
  async revokeLiveLinks(userId: string, at: Date, manager?: EntityManager): Promise<void> {
    await this.links(manager).update(
      { userId, usedAt: IsNull(), revokedAt: IsNull() },
      { revokedAt: at },
    );
  }
}
