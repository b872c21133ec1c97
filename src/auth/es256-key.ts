import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';

/** The public half of an ES256 key, as the JWKS publishes it. */
export interface PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  use: 'sig';
  alg: 'ES256';
}

/** A signing key parsed once: its KeyObjects, kid and public JWK. */
export interface LoadedKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: PublicJwk;
}

/** RFC 7638 thumbprint: a kid that is the same wherever the key is loaded. */
function thumbprint(jwk: { crv: string; kty: string; x: string; y: string }): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** The key of an EC P-256 private key (anything else is refused), with its RFC 7638 kid. */
export function fromPrivateKey(privateKey: KeyObject): LoadedKey {
  if (
    privateKey.asymmetricKeyType !== 'ec' ||
    privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  ) {
    throw new Error('the JWT signing key must be an EC P-256 private key (ES256)');
  }
  const publicKey = createPublicKey(privateKey);
  const raw = publicKey.export({ format: 'jwk' }) as {
    crv: string;
    kty: string;
    x: string;
    y: string;
  };
  const kid = thumbprint(raw);
  return {
    kid,
    privateKey,
    publicKey,
    jwk: { kty: 'EC', crv: 'P-256', x: raw.x, y: raw.y, kid, use: 'sig', alg: 'ES256' },
  };
}

/** The key of a PEM-encoded EC P-256 private key. */
export function fromPem(pem: string | Buffer): LoadedKey {
  return fromPrivateKey(createPrivateKey(pem));
}

/** A new random P-256 key. */
export function newEs256Key(): LoadedKey {
  return fromPrivateKey(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
}

/** The public JWK with its private part `d`, for a signer that takes JWKs. */
export function privateJwk(key: LoadedKey): PublicJwk & { d: string } {
  return { ...key.jwk, d: (key.privateKey.export({ format: 'jwk' }) as { d: string }).d };
}
