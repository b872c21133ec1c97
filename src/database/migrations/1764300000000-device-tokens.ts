import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Device tokens: a login from a known device is not subject to the account's lockout. */
export class DeviceTokens1764300000000 implements MigrationInterface {
  name = 'DeviceTokens1764300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE device_tokens (
        token_hash bytea PRIMARY KEY,
        user_id uuid NOT NULL,
        created_at timestamptz NOT NULL,
        last_used_at timestamptz NOT NULL,
        failed_logins integer NOT NULL DEFAULT 0,
        revoked_at timestamptz,
        CONSTRAINT device_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX device_tokens_user_idx ON device_tokens (user_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE device_tokens`);
  }
}
