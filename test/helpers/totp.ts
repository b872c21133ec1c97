import { createHmac } from 'node:crypto';
import { expect } from '@jest/globals';
import { bearer, createUser, login, type TestUser, type TokenPair } from './factories.js';
import type { TestApp } from './test-app.js';

/**
 * RFC 6238 TOTP as an authenticator app computes it (SHA-1, 6 digits, 30-second steps), written
 * out here so the tests do not share code or a library with the service they check.
 */
export const TOTP_PERIOD_SECONDS = 30;

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (case-insensitive, padding and spaces ignored) to bytes. */
export function base32Decode(text: string): Buffer {
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    const value = BASE32_ALPHABET.indexOf(char);
    if (value < 0) {
      throw new Error(`not a base32 character: ${char}`);
    }
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** RFC 4226 HOTP with dynamic truncation. */
export function hotp(key: Buffer, counter: number, digits = 6): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The 6-digit code an authenticator app shows for this secret at `atSeconds` (Unix time). */
export function totp(secretBase32: string, atSeconds: number): string {
  return hotp(base32Decode(secretBase32), Math.floor(atSeconds / TOTP_PERIOD_SECONDS));
}

/**
 * An authenticator app next to the test app's clock. `freshCode` moves the clock to one second
 * into the next 30 s step, so the code is newer than any accepted before and stays valid while
 * the test runs.
 */
export function authenticator(t: TestApp) {
  const periodMs = TOTP_PERIOD_SECONDS * 1000;
  const nowSeconds = () => Math.floor(t.clock.now().getTime() / 1000);
  const nextStep = (): void => {
    const intoStepMs = t.clock.now().getTime() % periodMs;
    t.clock.advance((periodMs - intoStepMs + 1000) / 1000);
  };
  const codeAt = (secret: string, steps = 0): string =>
    totp(secret, nowSeconds() + steps * TOTP_PERIOD_SECONDS);
  return {
    nextStep,
    codeAt,
    freshCode(secret: string): string {
      nextStep();
      return codeAt(secret);
    },
    /** Six digits that are the code of none of the steps the service accepts now. */
    wrongCode(secret: string): string {
      const valid = new Set([-1, 0, 1].map((steps) => codeAt(secret, steps)));
      let n = (Number(codeAt(secret)) + 500_000) % 1_000_000;
      while (valid.has(String(n).padStart(6, '0'))) {
        n = (n + 1) % 1_000_000;
      }
      return String(n).padStart(6, '0');
    },
  };
}

/**
 * Turns 2FA on for a user through the personal center, as the user would (setup with the
 * password, then a code from the new authenticator); returns the secret, the recovery codes and
 * the code that turned it on and the tokens of the sign-in it used.
 */
export async function enableTwoFactor(
  t: TestApp,
  user: { username: string; password: string },
): Promise<{ secret: string; recoveryCodes: string[]; enableCode: string; tokens: TokenPair }> {
  const tokens = await login(t, user.username, user.password);
  const setup = await t
    .http()
    .post('/api/v1/me/two-factor/setup')
    .set(...bearer(tokens.accessToken))
    .send({ currentPassword: user.password });
  expect(setup.status).toBe(200);
  const secret = setup.body.secret as string;
  const enableCode = authenticator(t).freshCode(secret);
  const enabled = await t
    .http()
    .post('/api/v1/me/two-factor/enable')
    .set(...bearer(tokens.accessToken))
    .send({ code: enableCode });
  expect(enabled.status).toBe(200);
  return { secret, recoveryCodes: enabled.body.recoveryCodes as string[], enableCode, tokens };
}

/** A user from `createUser` who turned 2FA on in the personal center (`enableTwoFactor`). */
export interface EnrolledUser extends TestUser {
  email: string;
  secret: string;
  recoveryCodes: string[];
  /** The code that turned 2FA on. */
  enableCode: string;
  /** A session from before 2FA was turned on (amr pwd), for the personal center. */
  tokens: TokenPair;
}

/** Creates a user (with an email address) and turns 2FA on for them. */
export async function createEnrolledUser(t: TestApp): Promise<EnrolledUser> {
  const user = await createUser(t);
  return { ...user, email: user.email as string, ...(await enableTwoFactor(t, user)) };
}

/** The password step of a sign-in for a user with 2FA: checks it asks for a code, returns the challenge token. */
export async function challengeFor(
  t: TestApp,
  user: { username: string; password: string },
): Promise<string> {
  const res = await t
    .http()
    .post('/api/v1/auth/login')
    .send({ username: user.username, password: user.password });
  expect(res.status).toBe(200);
  expect(res.body.twoFactorRequired).toBe(true);
  return res.body.challengeToken as string;
}
