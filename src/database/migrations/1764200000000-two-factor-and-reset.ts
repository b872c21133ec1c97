import type { MigrationInterface, QueryRunner } from 'typeorm';

/** TOTP credentials and recovery codes, reset links and reset sessions; outbox contexts encrypted. */
export class TwoFactorAndReset1764200000000 implements MigrationInterface {
  name = 'TwoFactorAndReset1764200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE two_factor_credentials (
        user_id uuid PRIMARY KEY,
        secret_sealed text NOT NULL,
        enabled_at timestamptz,
        last_used_step integer,
        created_at timestamptz NOT NULL,
        CONSTRAINT two_factor_credentials_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      )`);
    await db.query(`
      CREATE TABLE recovery_codes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL,
        code_hash bytea NOT NULL,
        created_at timestamptz NOT NULL,
        used_at timestamptz,
        CONSTRAINT recovery_codes_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      )`);
    await db.query(
      `CREATE UNIQUE INDEX recovery_codes_user_code_key ON recovery_codes (user_id, code_hash)`,
    );
    await db.query(`
      CREATE TABLE password_reset_links (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL,
        flow_id uuid NOT NULL,
        token_hash bytea NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        revoked_at timestamptz,
        CONSTRAINT password_reset_links_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      )`);
    await db.query(
      `CREATE UNIQUE INDEX password_reset_links_token_key ON password_reset_links (token_hash)`,
    );
    await db.query(`CREATE INDEX password_reset_links_user_idx ON password_reset_links (user_id)`);
    await db.query(`
      CREATE TABLE password_reset_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL,
        flow_id uuid NOT NULL,
        token_hash bytea NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        two_factor_verified_at timestamptz,
        failed_codes integer NOT NULL DEFAULT 0,
        pending_secret_sealed text,
        finished_at timestamptz,
        finish_reason varchar(32),
        CONSTRAINT password_reset_sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      )`);
    await db.query(
      `CREATE UNIQUE INDEX password_reset_sessions_token_key ON password_reset_sessions (token_hash)`,
    );
    await db.query(
      `CREATE INDEX password_reset_sessions_user_idx ON password_reset_sessions (user_id)`,
    );
    // Contexts may hold a live reset link: keep them encrypted, and erased once sent.
    await db.query(`DELETE FROM mail_outbox WHERE status = 'pending'`);
    await db.query(`ALTER TABLE mail_outbox DROP COLUMN context`);
    await db.query(`ALTER TABLE mail_outbox ADD COLUMN context_sealed text`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE mail_outbox DROP COLUMN context_sealed`);
    await db.query(`ALTER TABLE mail_outbox ADD COLUMN context jsonb NOT NULL DEFAULT '{}'`);
    await db.query(`DROP TABLE password_reset_sessions`);
    await db.query(`DROP TABLE password_reset_links`);
    await db.query(`DROP TABLE recovery_codes`);
    await db.query(`DROP TABLE two_factor_credentials`);
  }
}
