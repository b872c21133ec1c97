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
