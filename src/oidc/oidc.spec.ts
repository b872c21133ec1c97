import { describe, expect, it } from '@jest/globals';
import { isRedirectUri } from './dto/clients.dto.js';
import { secretMatches } from './oidc-clients.service.js';
import { formActionPolicy } from './oidc-http.js';
import { sha256 } from '../common/crypto/tokens.js';

describe('isRedirectUri', () => {
  it('takes https anywhere and http only to this machine', () => {
    expect(isRedirectUri('https://app.example.com/callback')).toBe(true);
    expect(isRedirectUri('https://app.example.com/cb?tenant=1')).toBe(true);
    expect(isRedirectUri('http://localhost:3000/cb')).toBe(true);
    expect(isRedirectUri('http://127.0.0.1:9/cb')).toBe(true);
    expect(isRedirectUri('http://[::1]:9/cb')).toBe(true);
    expect(isRedirectUri('http://app.example.com/cb')).toBe(false);
    expect(isRedirectUri('http://localhost.evil.example/cb')).toBe(false);
  });

  it('refuses fragments, credentials, other schemes, spaces and non-URLs', () => {
    expect(isRedirectUri('https://app.example.com/cb#x')).toBe(false);
    expect(isRedirectUri('https://app.example.com/cb#')).toBe(false);
    expect(isRedirectUri('https://user:pw@app.example.com/cb')).toBe(false);
    expect(isRedirectUri('javascript:alert(1)')).toBe(false);
    expect(isRedirectUri('ftp://app.example.com/cb')).toBe(false);
    expect(isRedirectUri('https://app.example.com/a b')).toBe(false);
    expect(isRedirectUri('/relative')).toBe(false);
    expect(isRedirectUri(42)).toBe(false);
    expect(isRedirectUri(`https://app.example.com/${'a'.repeat(2000)}`)).toBe(false);
  });
});

describe('secretMatches', () => {
  const secret = 'a-256-bit-secret-in-base64url-xxxxxxxxxxxxx';
  const stored = sha256(secret).toString('base64url');

  it('matches the secret whose hash is stored, and nothing else', () => {
    expect(secretMatches(stored, secret)).toBe(true);
    expect(secretMatches(stored, `${secret}x`)).toBe(false);
    expect(secretMatches(stored, '')).toBe(false);
    expect(secretMatches(stored, stored)).toBe(false);
    expect(secretMatches(null, secret)).toBe(false);
    expect(secretMatches(undefined, '')).toBe(false);
  });
});

describe('formActionPolicy', () => {
  it("lets forms lead to our origin and to the applications' origins only", () => {
    const policy = formActionPolicy([
      'https://app.example.com/cb?x=1',
      'http://127.0.0.1:9/cb',
      'not a url',
      undefined,
    ]);
    expect(policy).toContain("form-action 'self' https://app.example.com http://127.0.0.1:9;");
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'none'");
    expect(policy).toContain("frame-ancestors 'none'");
  });
});
