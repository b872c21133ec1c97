import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Users, sessions with their refresh-token families, signing keys, audit events, mail outbox. */
export class InitialSchema1764190000000 implements MigrationInterface {
  name = 'InitialSchema1764190000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        username varchar(64) NOT NULL,
        email varchar(254),
        password_hash text NOT NULL,
        must_change_password boolean NOT NULL DEFAULT false,
        roles text[] NOT NULL DEFAULT '{}',
        disabled boolean NOT NULL DEFAULT false,
        password_changed_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    // Uniqueness is case-insensitive and enforced here, so two racing creates cannot both win.
    await db.query(`CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username))`);
    await db.query(`CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))`);

    await db.query(`
      CREATE TABLE password_history (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await db.query(
      `CREATE INDEX password_history_user_idx ON password_history (user_id, created_at)`,
    );

    await db.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        amr text[] NOT NULL,
        client_ip varchar(64),
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoke_reason varchar(32)
      )`);
    await db.query(`CREATE INDEX sessions_user_idx ON sessions (user_id)`);

    await db.query(`
      CREATE TABLE refresh_tokens (
        token_hash bytea PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await db.query(`CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id)`);

    await db.query(`
      CREATE TABLE signing_keys (
        kid varchar(64) PRIMARY KEY,
        algorithm varchar(16) NOT NULL,
        public_jwk jsonb NOT NULL,
        private_key_encrypted text NOT NULL,
        created_at timestamptz NOT NULL,
        retired_at timestamptz
      )`);
    // At most one active key: replicas racing to create the first key cannot both succeed.
    await db.query(
      `CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((true)) WHERE retired_at IS NULL`,
    );

    await db.query(`
      CREATE TABLE audit_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        type varchar(64) NOT NULL,
        actor_id uuid,
        subject_id uuid,
        client_ip varchar(64),
        flow_id uuid,
        details jsonb NOT NULL DEFAULT '{}',
        occurred_at timestamptz NOT NULL
      )`);
    await db.query(
      `CREATE INDEX audit_events_subject_idx ON audit_events (subject_id, occurred_at)`,
    );
    await db.query(`CREATE INDEX audit_events_type_idx ON audit_events (type, occurred_at)`);
    await db.query(`CREATE INDEX audit_events_time_idx ON audit_events (occurred_at)`);

    await db.query(`
      CREATE TABLE mail_outbox (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        template varchar(64) NOT NULL,
        recipient varchar(254) NOT NULL,
        context jsonb NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        last_error text,
        created_at timestamptz NOT NULL,
        sent_at timestamptz
      )`);
    await db.query(
      `CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE status = 'pending'`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of [
      'mail_outbox',
      'audit_events',
      'signing_keys',
      'refresh_tokens',
      'sessions',
      'password_history',
      'users',
    ]) {
      await db.query(`DROP TABLE ${table}`);
    }
  }
}
