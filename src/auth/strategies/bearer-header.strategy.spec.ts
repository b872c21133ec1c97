import { describe, expect, it } from '@jest/globals';
import { bearerToken } from './bearer-header.strategy.js';

describe('bearerToken', () => {
  it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])(
    'reads the scheme %s (RFC 7235: any case)',
    (scheme) => {
      expect(bearerToken(`${scheme} abc.DEF-ghi_~+/==`)).toBe('abc.DEF-ghi_~+/==');
    },
  );

  it('allows more than one space after the scheme', () => {
    expect(bearerToken('Bearer   abc')).toBe('abc');
  });

  it.each([
    undefined,
    ['Bearer abc'],
    '',
    'Bearer',
    'Bearer ',
    'Basic YWxhZGRpbjpvcGVuc2VzYW1l',
    'Bearerabc',
    'Bearer abc def',
    'Bearer a=b',
    'Bearer abc\u0000',
  ])('refuses %j', (header) => {
    expect(bearerToken(header)).toBeUndefined();
  });
});
