import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { POOL_SIZE } from './pool.js';

/**
 * The embedded default: PGlite (PostgreSQL compiled to WebAssembly) kept in $DATA_DIR/pgdata and
 * served in-process on loopback, so the app talks to it with the same `pg` driver, migrations and
 * SQL as to a real PostgreSQL. The socket server multiplexes the pool's connections onto PGlite's
 * single session; a transaction holds that session until it ends, so code inside a transaction
 * must use only the transaction's manager.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly url: string,
    readonly dir: string,
  ) {}

  /**
   * Opens (or on first start creates) $DATA_DIR/pgdata. It logs nothing: it may run before the
   * application's logger exists (main.ts starts it while the application loads).
   */
  static async start(dataDir: string): Promise<EmbeddedPostgres> {
    const maxConnections = POOL_SIZE + 2;
    const dir = join(dataDir, 'pgdata');
    mkdirSync(dir, { recursive: true });
    const db = await PGlite.create({ dataDir: dir });
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections });
    await server.start();
    const url = `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
    return new EmbeddedPostgres(db, server, url, dir);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.db.close();
  }
}
