import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Verified email addresses (issue #9): an address a user sets is bound only once its owner opens
 * the link mailed to it. `users.email_verified` says whether the bound address was proven (or set
 * by an admin); `email_verifications` holds the mailed confirmation links, like
 * `password_reset_links`: only the SHA-256 of a link's token is stored.
 */
export class EmailVerification1764400000000 implements MigrationInterface {
  name = 'EmailVerification1764400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false`);
    // Data step, for operators: every address bound before this version was set either by an
    // admin or by its signed-in user (who had to give their password). Under the old rule those
    // addresses were trusted for password resets, so they keep being trusted: they are marked
    // verified. Only addresses set from now on wait for their owner's confirmation. Users
    // without an address are untouched (email_verified stays false).
    await db.query(`UPDATE users SET email_verified = true WHERE email IS NOT NULL`);
    await db.query(`
      CREATE TABLE email_verifications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL,
        email varchar(254) NOT NULL,
        token_hash bytea NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        revoked_at timestamptz,
        CONSTRAINT email_verifications_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      )`);
    await db.query(
      `CREATE UNIQUE INDEX email_verifications_token_key ON email_verifications (token_hash)`,
    );
    await db.query(`CREATE INDEX email_verifications_user_idx ON email_verifications (user_id)`);
    // At most one link of a user is alive: a newer request revokes the older one first.
    await db.query(
      `CREATE UNIQUE INDEX email_verifications_live_key ON email_verifications (user_id)
         WHERE used_at IS NULL AND revoked_at IS NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE email_verifications`);
    await db.query(`ALTER TABLE users DROP COLUMN email_verified`);
  }
}
