import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { SecretBox } from './secret-box.js';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('opens what it sealed', () => {
    const sealed = box.seal('a private key', 'signing-key:k1');
    expect(sealed).not.toContain('a private key');
    expect(box.open(sealed, 'signing-key:k1').toString()).toBe('a private key');
  });

  it('never produces the same ciphertext twice', () => {
    expect(box.seal('same', 'c')).not.toBe(box.seal('same', 'c'));
  });

  it('refuses a ciphertext bound to another context', () => {
    const sealed = box.seal('secret', 'totp:user-1');
    expect(() => box.open(sealed, 'totp:user-2')).toThrow();
  });

  it('refuses a tampered ciphertext', () => {
    const parts = box.seal('secret', 'c').split('.');
    const body = Buffer.from(parts[2], 'base64url');
    body[0] ^= 1;
    parts[2] = body.toString('base64url');
    expect(() => box.open(parts.join('.'), 'c')).toThrow();
  });

  it('refuses another key', () => {
    const other = new SecretBox(randomBytes(32));
    expect(() => other.open(box.seal('secret', 'c'), 'c')).toThrow();
  });
});
