import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { DatabaseLocation } from './database-location.js';

/**
 * Statements run so often that their parsing and planning show in the database's CPU (a token
 * rotation on every refresh): on PostgreSQL each is a named prepared statement, parsed and planned
 * once per connection of the pool, then only bound and executed. Straight on the pool: the ORM's
 * query runner adds nothing to a plain statement.
 *
 * On the embedded PGlite every connection of the pool shares one database session, where a name
 * prepared by one connection would clash with the next connection's, and a name would outlive the
 * connection that prepared it; there they run as unnamed statements, as any other query.
 */
@Injectable()
export class PreparedStatements {
  private readonly pool: Pool | null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    location: DatabaseLocation,
  ) {
    // TypeORM's postgres driver keeps its pg pool as `master` (typed `any`).
    this.pool = location.isEmbedded
      ? null
      : (dataSource.driver as unknown as { master: Pool }).master;
  }

  /** Runs `text` (with `$n` placeholders) as the statement `name`; its rows. */
  async query<T>(name: string, text: string, values: unknown[]): Promise<T[]> {
    if (!this.pool) {
      return this.dataSource.query<T[]>(text, values);
    }
    const result = await this.pool.query<T & object>({ name, text, values });
    return result.rows;
  }
}
