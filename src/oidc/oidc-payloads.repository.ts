import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { AdapterPayload } from 'oidc-provider';
import type { DataSource } from 'typeorm';

/** A stored artifact as the store reads it back. */
export interface PayloadRow {
  payload: AdapterPayload;
  consumed_at: Date | null;
  expires_at: Date | null;
  session_id: string | null;
}

/**
 * What the OpenID Provider stores, one row per artifact keyed by model and id (oidc_payloads),
 * with the columns it is looked up by. Plain SQL: the upsert keeps a grant's session and its
 * consumption, and the cascades by grant and by session are single statements.
 */
@Injectable()
export class OidcPayloadsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async upsert(
    model: string,
    id: string,
    payload: AdapterPayload,
    expiresAt: Date | null,
  ): Promise<void> {
    // session_id and consumed_at are kept: a grant saved again stays tied to its session.
    await this.dataSource.query(
      `INSERT INTO oidc_payloads (model, id, payload, grant_id, user_code, uid, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload,
         grant_id = EXCLUDED.grant_id, user_code = EXCLUDED.user_code, uid = EXCLUDED.uid,
         expires_at = EXCLUDED.expires_at`,
      [
        model,
        id,
        JSON.stringify(payload),
        payload.grantId ?? null,
        payload.userCode ?? null,
        payload.uid ?? null,
        expiresAt,
      ],
    );
  }

  async find(model: string, id: string): Promise<PayloadRow | undefined> {
    const rows: PayloadRow[] = await this.dataSource.query(
      `SELECT payload, consumed_at, expires_at, session_id FROM oidc_payloads
        WHERE model = $1 AND id = $2`,
      [model, id],
    );
    return rows[0];
  }

  async findBy(
    model: string,
    column: 'uid' | 'user_code',
    value: string,
  ): Promise<PayloadRow | undefined> {
    const rows: PayloadRow[] = await this.dataSource.query(
      `SELECT payload, consumed_at, expires_at, session_id FROM oidc_payloads
        WHERE model = $1 AND ${column} = $2 LIMIT 1`,
      [model, value],
    );
    return rows[0];
  }

  async consume(model: string, id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE oidc_payloads SET consumed_at = now() WHERE model = $1 AND id = $2`,
      [model, id],
    );
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM oidc_payloads WHERE model = $1 AND id = $2`, [
      model,
      id,
    ]);
  }

  async revokeByGrantId(model: string, grantId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM oidc_payloads WHERE model = $1 AND grant_id = $2`, [
      model,
      grantId,
    ]);
  }

  async linkGrant(grantId: string, sessionId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE oidc_payloads SET session_id = $2 WHERE model = 'Grant' AND id = $1`,
      [grantId, sessionId],
    );
  }

  async grantSession(grantId: string): Promise<string | null> {
    const rows: { session_id: string | null }[] = await this.dataSource.query(
      `SELECT session_id FROM oidc_payloads WHERE model = 'Grant' AND id = $1`,
      [grantId],
    );
    return rows[0]?.session_id ?? null;
  }

  /** Deletes the grants given in these sessions, and first everything issued under them. */
  async deleteGrantsOfSessions(sessionIds: string[]): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM oidc_payloads WHERE grant_id IN (
         SELECT id FROM oidc_payloads WHERE model = 'Grant' AND session_id = ANY($1::uuid[]))`,
      [sessionIds],
    );
    await this.dataSource.query(
      `DELETE FROM oidc_payloads WHERE model = 'Grant' AND session_id = ANY($1::uuid[])`,
      [sessionIds],
    );
  }

  async sessionsOfGrants(grantIds: string[]): Promise<string[]> {
    const rows: { session_id: string }[] = await this.dataSource.query(
      `SELECT DISTINCT session_id FROM oidc_payloads
        WHERE model = 'Grant' AND id = ANY($1::text[]) AND session_id IS NOT NULL`,
      [grantIds],
    );
    return rows.map((r) => r.session_id);
  }

  /** A row of our own beside the provider's (no grant, code or expiry columns). */
  async findOwn<T>(model: string, id: string): Promise<T | undefined> {
    const rows: { payload: T }[] = await this.dataSource.query(
      `SELECT payload FROM oidc_payloads WHERE model = $1 AND id = $2`,
      [model, id],
    );
    return rows[0]?.payload;
  }

  async saveOwn(model: string, id: string, payload: object): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO oidc_payloads (model, id, payload) VALUES ($1, $2, $3)
       ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload`,
      [model, id, JSON.stringify(payload)],
    );
  }

  async deleteExpired(): Promise<void> {
    await this.dataSource.query(`DELETE FROM oidc_payloads WHERE expires_at < now()`);
  }
}
