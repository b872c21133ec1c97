import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Everything the OpenID Provider stores (sessions, interactions, codes, tokens, grants), one row
 * per artifact, read and written by OidcStore for oidc-provider. The columns beside `payload` are
 * the ones the provider looks artifacts up by; `session_id` ties a grant to the Portcullis
 * session it was given in, so that the grant and its tokens end with that session.
 */
@Entity('oidc_payloads')
export class OidcPayloadEntity {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  model!: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  id!: string;

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  @Column({ name: 'grant_id', type: 'varchar', length: 255, nullable: true })
  grantId!: string | null;

  @Column({ name: 'user_code', type: 'varchar', length: 255, nullable: true })
  userCode!: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  uid!: string | null;

  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId!: string | null;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @Column({ name: 'consumed_at', type: 'timestamptz', nullable: true })
  consumedAt!: Date | null;
}
