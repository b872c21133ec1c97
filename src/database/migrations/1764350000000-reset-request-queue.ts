import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The queue behind reset requests in generic disclosure mode: the request only writes a row, so
 * it costs the same whatever the identifier names; a worker does the rest.
 */
export class ResetRequestQueue1764350000000 implements MigrationInterface {
  name = 'ResetRequestQueue1764350000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE password_reset_requests (
        id uuid PRIMARY KEY,
        identifier varchar(254) NOT NULL,
        client_ip varchar(64),
        created_at timestamptz NOT NULL,
        due_at timestamptz NOT NULL,
        attempts integer NOT NULL DEFAULT 0
      )`);
    await db.query(
      `CREATE INDEX password_reset_requests_due_idx ON password_reset_requests (due_at)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE password_reset_requests`);
  }
}
