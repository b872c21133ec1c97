import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * The embedded default: PGlite (PostgreSQL compiled to WebAssembly) kept in $DATA_DIR/pgdata and
 * served in-process on loopback, so the app talks to it with the same `pg` driver, migrations and
 * SQL as to a real PostgreSQL. The socket server multiplexes the pool's connections onto PGlite's
 * single session; a transaction holds that session until it ends, so code inside a transaction
 * must use only the transaction's manager.
 */
export class EmbeddedPostgres {
  private readonly logger = new Logger('EmbeddedPostgres');

  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly url: string,
  ) {}

  static async start(dataDir: string, maxConnections: number): Promise<EmbeddedPostgres> {
    const dir = join(dataDir, 'pgdata');
    mkdirSync(dir, { recursive: true });
    const db = await PGlite.create({ dataDir: dir });
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections });
    await server.start();
    const url = `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
    const embedded = new EmbeddedPostgres(db, server, url);
    embedded.logger.log(`embedded PostgreSQL (PGlite) ready with data in ${dir}`);
    return embedded;
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.db.close();
  }
}
