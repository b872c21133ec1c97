import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { POOL_SIZE } from './pool.js';

/** Frontend messages of the extended query protocol that leave a statement half-done until Sync. */
const EXTENDED_QUERY_MESSAGES = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((c) => c.charCodeAt(0)));
const SYNC = 'S'.charCodeAt(0);
const SYNC_MESSAGE = new Uint8Array([SYNC, 0, 0, 0, 4]);

/**
 * PGlite as the socket server should see it: busy with one connection from its first Parse, Bind,
 * Describe, Execute, Close or Flush until its Sync, as it is inside a transaction.
 *
 * The socket server queues single protocol messages and only keeps one connection's messages
 * together inside a transaction. Outside one, the Parse/Bind/Execute/Sync of two connections'
 * parameterised queries interleave on PGlite's one session, so one binds the other's unnamed
 * statement: under parallel requests queries failed ("bind message supplies 1 parameters, but
 * prepared statement requires 5", "portal does not exist") or could read another query's rows.
 * Reporting that sequence as a transaction makes the server's queue serve that connection
 * alone until it is done, as PostgreSQL's own sessions would.
 */
export function oneQueryAtATime(db: PGlite): PGlite {
  let open = false;
  return new Proxy(db, {
    get(target, property) {
      if (property === 'isInTransaction') {
        return () => open || target.isInTransaction();
      }
      if (property === 'execProtocolRawStream') {
        return async (
          message: Uint8Array,
          options: Parameters<PGlite['execProtocolRawStream']>[1],
        ): Promise<void> => {
          const type = message[0];
          try {
            await target.execProtocolRawStream(message, options);
          } finally {
            if (type === SYNC) {
              open = false;
            } else if (EXTENDED_QUERY_MESSAGES.has(type)) {
              open = true;
            }
          }
        };
      }
      if (property === 'exec') {
        // The server's clean-up after a connection dropped mid-way: end its half-done query too.
        return async (sql: string, options?: Parameters<PGlite['exec']>[1]) => {
          if (open) {
            open = false;
            await target.runExclusive(() =>
              target.execProtocolRawStream(SYNC_MESSAGE, { onRawData: () => undefined }),
            );
          }
          return target.exec(sql, options);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

/**
 * PGlite's own start parameters, plus memory settings for a small embedded database: PostgreSQL's
 * default 128 MB of shared buffers live in the WebAssembly heap of this process, and 16 MB hold
 * this service's working set many times over. Measured: ~100 MiB less resident memory.
 */
const EMBEDDED_START_PARAMS = [
  ...PGlite.defaultStartParams,
  '-c',
  'shared_buffers=16MB',
  '-c',
  'wal_buffers=1MB',
  '-c',
  'work_mem=2MB',
  '-c',
  'maintenance_work_mem=16MB',
  '-c',
  'temp_buffers=2MB',
];

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
    const db = await PGlite.create({ dataDir: dir, startParams: EMBEDDED_START_PARAMS });
    const server = new PGLiteSocketServer({
      db: oneQueryAtATime(db),
      host: '127.0.0.1',
      port: 0,
      maxConnections,
    });
    await server.start();
    const url = `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
    return new EmbeddedPostgres(db, server, url, dir);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.db.close();
  }
}
