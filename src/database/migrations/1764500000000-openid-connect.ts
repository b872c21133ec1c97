import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * OpenID Connect: the applications admins register, and the one table the OpenID Provider keeps
 * its artifacts in (sessions, interactions, codes, tokens, grants, remembered consents).
 */
export class OpenIdConnect1764500000000 implements MigrationInterface {
  name = 'OpenIdConnect1764500000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE oidc_clients (
        id varchar(64) PRIMARY KEY,
        name varchar(100) NOT NULL,
        redirect_uris jsonb NOT NULL,
        post_logout_redirect_uris jsonb NOT NULL,
        public boolean NOT NULL,
        first_party boolean NOT NULL,
        secret_hash varchar(64),
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await db.query(`
      CREATE TABLE oidc_payloads (
        model varchar(32) NOT NULL,
        id varchar(255) NOT NULL,
        payload jsonb NOT NULL,
        grant_id varchar(255),
        user_code varchar(255),
        uid varchar(255),
        session_id uuid,
        expires_at timestamptz,
        consumed_at timestamptz,
        PRIMARY KEY (model, id)
      )`);
    await db.query(
      `CREATE INDEX oidc_payloads_grant_idx ON oidc_payloads (grant_id) WHERE grant_id IS NOT NULL`,
    );
    await db.query(
      `CREATE INDEX oidc_payloads_uid_idx ON oidc_payloads (uid) WHERE uid IS NOT NULL`,
    );
    await db.query(
      `CREATE INDEX oidc_payloads_user_code_idx ON oidc_payloads (user_code) WHERE user_code IS NOT NULL`,
    );
    await db.query(`CREATE INDEX oidc_payloads_expires_idx ON oidc_payloads (expires_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE oidc_payloads`);
    await db.query(`DROP TABLE oidc_clients`);
  }
}
