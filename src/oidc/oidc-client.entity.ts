import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An application registered by an admin to sign its users in with OpenID Connect. */
@Entity('oidc_clients')
export class OidcClientEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ name: 'redirect_uris', type: 'jsonb' })
  redirectUris!: string[];

  @Column({ name: 'post_logout_redirect_uris', type: 'jsonb' })
  postLogoutRedirectUris!: string[];

  /** A public client (a browser or native app) has no secret and must use PKCE. */
  @Column({ name: 'public', type: 'boolean' })
  isPublic!: boolean;

  /** A first-party client (one of the operator's own applications) skips the consent page. */
  @Column({ name: 'first_party', type: 'boolean' })
  firstParty!: boolean;

  /** SHA-256 (base64url) of the 256-bit random secret; null for a public client. */
  @Column({ name: 'secret_hash', type: 'varchar', length: 64, nullable: true })
  secretHash!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
