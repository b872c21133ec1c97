import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { generate } from 'otplib';
import {
  acceptedStep,
  newRecoveryCodes,
  newTotpSecret,
  normalizeRecoveryCode,
  otpauthUri,
  recoveryCodeHash,
  totpCode,
} from './totp.js';

/** RFC 4226 §5.3, written out here so the check does not depend on the library under test. */
function hotp(key: Buffer, counter: number, digits: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

const RFC_KEY = Buffer.from('12345678901234567890');

describe('RFC 4226 Appendix D (HOTP, SHA-1)', () => {
  const expected = [
    '755224',
    '287082',
    '359152',
    '969429',
    '338314',
    '254676',
    '287922',
    '162583',
    '399871',
    '520489',
  ];
  it.each(expected.map((code, counter): [number, string] => [counter, code]))(
    'counter %i gives %s',
    async (counter, code) => {
      expect(hotp(RFC_KEY, counter, 6)).toBe(code);
      // The library, fed the same key as a 30-second TOTP at the matching time, agrees.
      expect(await totpCode(new Uint8Array(RFC_KEY), counter * 30)).toBe(code);
    },
  );
});

describe('RFC 6238 Appendix B (TOTP, SHA-1, 8 digits)', () => {
  it.each([
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ])('at %i s the code is %s', async (time, code) => {
    expect(hotp(RFC_KEY, Math.floor(time / 30), 8)).toBe(code);
    expect(
      await generate({
        secret: new Uint8Array(RFC_KEY),
        epoch: time,
        digits: 8,
        algorithm: 'sha1',
        period: 30,
      }),
    ).toBe(code);
  });
});

describe('acceptedStep', () => {
  const secret = newTotpSecret();
  const now = 1_800_000_015;
  const step = Math.floor(now / 30);

  it('accepts the current code and names its time step', async () => {
    expect(await acceptedStep(secret, await totpCode(secret, now), now, null)).toBe(step);
  });

  it('accepts a code one step old or one step ahead, not two', async () => {
    expect(await acceptedStep(secret, await totpCode(secret, now - 30), now, null)).toBe(step - 1);
    expect(await acceptedStep(secret, await totpCode(secret, now + 30), now, null)).toBe(step + 1);
    expect(await acceptedStep(secret, await totpCode(secret, now - 60), now, null)).toBeNull();
    expect(await acceptedStep(secret, await totpCode(secret, now + 60), now, null)).toBeNull();
  });

  it('never accepts a code of a step already used', async () => {
    const code = await totpCode(secret, now);
    expect(await acceptedStep(secret, code, now, step)).toBeNull();
    expect(await acceptedStep(secret, await totpCode(secret, now - 30), now, step)).toBeNull();
  });

  it('refuses anything that is not six digits', async () => {
    expect(await acceptedStep(secret, 'abcdef', now, null)).toBeNull();
    expect(await acceptedStep(secret, '12345', now, null)).toBeNull();
  });
});

describe('secrets and URIs', () => {
  it('makes 20-byte secrets in base32', () => {
    expect(newTotpSecret()).toMatch(/^[A-Z2-7]{32}$/);
  });

  it('builds the otpauth URI Google Authenticator reads', () => {
    const uri = otpauthUri('Portcullis', 'alice', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    expect(uri).toMatch(/^otpauth:\/\/totp\/Portcullis:alice\?/);
    const params = new URL(uri).searchParams;
    expect(params.get('secret')).toBe('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    expect(params.get('issuer')).toBe('Portcullis');
  });
});

describe('recovery codes', () => {
  it('makes ten distinct codes of 16 characters in groups', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) {
      expect(code).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    }
  });

  it('hashes the same code typed with other case and separators the same way', () => {
    expect(normalizeRecoveryCode(' K7QM x3vd-P9TW-h2nc ')).toBe('k7qmx3vdp9twh2nc');
    expect(
      recoveryCodeHash('K7QM-X3VD-P9TW-H2NC').equals(recoveryCodeHash('k7qmx3vdp9twh2nc')),
    ).toBe(true);
  });
});
