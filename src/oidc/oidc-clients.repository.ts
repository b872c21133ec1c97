import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { OidcClientEntity } from './oidc-client.entity.js';
import { OidcPayloadEntity } from './oidc-payload.entity.js';

/** The applications admins register. Pass the transaction's manager where there is one. */
@Injectable()
export class OidcClientsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private clients(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(OidcClientEntity);
  }

  /** The oldest first, at most `limit`. */
  list(limit: number): Promise<OidcClientEntity[]> {
    return this.clients().find({ order: { createdAt: 'ASC', id: 'ASC' }, take: limit });
  }

  findById(id: string, manager?: EntityManager): Promise<OidcClientEntity | null> {
    return this.clients(manager).findOneBy({ id });
  }

  /** The client, its row locked for the rest of the transaction: changes take turns. */
  lockById(id: string, manager: EntityManager): Promise<OidcClientEntity | null> {
    return this.clients(manager).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  async insert(client: OidcClientEntity, manager?: EntityManager): Promise<void> {
    await this.clients(manager).insert(client);
  }

  async update(
    id: string,
    changes: Partial<Omit<OidcClientEntity, 'id'>>,
    manager?: EntityManager,
  ): Promise<void> {
    await this.clients(manager).update({ id }, changes);
  }

  /** Deletes the client and everything the provider issued to it (codes, tokens, grants…). */
  async deleteWithArtifacts(id: string, manager?: EntityManager): Promise<void> {
    const m = manager ?? this.dataSource.manager;
    await m.getRepository(OidcClientEntity).delete({ id });
    await m
      .createQueryBuilder()
      .delete()
      .from(OidcPayloadEntity)
      .where(`payload->>'clientId' = :clientId`, { clientId: id })
      .execute();
  }
}
