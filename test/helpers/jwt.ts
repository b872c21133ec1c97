import { createPublicKey, type JsonWebKey, verify } from 'node:crypto';
import type { Json } from './factories.js';

/** One base64url part of a compact JWS, parsed as JSON. */
export function decodePart(part: string): Json {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Json;
}

/** Header and payload of a compact JWS, read without verifying anything. */
export function decodeJwt(token: string): { header: Json; payload: Json } {
  const [header, payload] = token.split('.');
  return { header: decodePart(header), payload: decodePart(payload) };
}

/** The claims of a compact JWS, read without verifying anything. */
export function jwtPayload(token: string): Json {
  return decodePart(token.split('.')[1]);
}

/** A key as the JWKS publishes it. */
export interface PublishedJwk extends JsonWebKey {
  kid: string;
  alg?: string;
  use?: string;
}

/**
 * What another application does with nothing but the JWKS: pick the key by kid, check the
 * ES256 signature. Independent of the service's own code.
 */
export function verifiesWithKeys(token: string, keys: PublishedJwk[]): boolean {
  const [encodedHeader, encodedPayload, encodedSignature] = token.split('.');
  const header = decodePart(encodedHeader);
  const jwk = keys.find((k) => k.kid === header.kid);
  if (header.alg !== 'ES256' || !jwk || encodedSignature === undefined) {
    return false;
  }
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  return verify(
    'sha256',
    Buffer.from(`${encodedHeader}.${encodedPayload}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(encodedSignature, 'base64url'),
  );
}
