import { randomBytes } from 'node:crypto';
import { generate, generateSecret, generateURI, verify } from 'otplib';
import { sha256 } from '../common/crypto/tokens.js';

/**
 * RFC 6238 as Google Authenticator honours it: SHA-1, 6 digits, 30-second steps, ±1 step of drift.
 */
export const TOTP_PERIOD = 30;
const TOLERANCE_SECONDS = TOTP_PERIOD;

/** A new secret: 20 random bytes (RFC 4226's recommended size), base32 as apps expect. */
export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export function otpauthUri(issuer: string, username: string, secret: string): string {
  return generateURI({
    issuer,
    label: username,
    secret,
    algorithm: 'sha1',
    digits: 6,
    period: TOTP_PERIOD,
  });
}

/** The current code for a secret (for tests and tools; the service only verifies). */
export function totpCode(secret: string | Uint8Array, epochSeconds: number): Promise<string> {
  return generate({
    secret,
    epoch: epochSeconds,
    algorithm: 'sha1',
    digits: 6,
    period: TOTP_PERIOD,
  });
}

/**
 * The time step a code belongs to, when it is valid now (±1 step) and newer than `afterStep`
 * (a code once accepted is never accepted again); null otherwise.
 */
export async function acceptedStep(
  secret: string,
  code: string,
  epochSeconds: number,
  afterStep: number | null,
): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) {
    return null;
  }
  const result = await verify({
    secret,
    token: code,
    epoch: epochSeconds,
    epochTolerance: TOLERANCE_SECONDS,
    algorithm: 'sha1',
    digits: 6,
    period: TOTP_PERIOD,
    ...(afterStep !== null ? { afterTimeStep: afterStep } : {}),
  });
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Ten single-use recovery codes like `k7qm-x3vd-p9tw-h2nc` (80 random bits each). */
export function newRecoveryCodes(count = 10): string[] {
  return Array.from({ length: count }, () => {
    const bytes = randomBytes(16);
    const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]).join('');
    return chars.match(/.{4}/g)!.join('-');
  });
}

/** Accepts recovery codes typed with any case, spaces or dashes. */
export function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '');
}

export function recoveryCodeHash(code: string): Buffer {
  return sha256(normalizeRecoveryCode(code));
}

export function looksLikeRecoveryCode(code: string): boolean {
  return /^[a-z0-9]{16}$/.test(normalizeRecoveryCode(code));
}
