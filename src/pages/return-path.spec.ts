import { describe, expect, it } from '@jest/globals';
import { loginPathFor, safeReturnPath } from './return-path.js';

describe('safeReturnPath', () => {
  it('keeps a path of our own pages with its query', () => {
    expect(safeReturnPath('/admin/users?search=al&page=2')).toBe('/admin/users?search=al&page=2');
    expect(safeReturnPath('/account')).toBe('/account');
  });

  it('refuses anything that would leave this origin', () => {
    for (const value of [
      'https://evil.example/admin',
      '//evil.example/admin',
      '/\\evil.example/admin',
      '/\tevil',
      'javascript:alert(1)',
      'admin/users',
      '',
      '/admin#x',
      `/admin/${'a'.repeat(2000)}`,
      42,
      undefined,
    ]) {
      expect(safeReturnPath(value)).toBeNull();
    }
  });

  it('refuses the API, the sign-in pages and unknown paths', () => {
    for (const value of ['/api/v1/me', '/login', '/login/two-factor', '/logout', '/docs']) {
      expect(safeReturnPath(value)).toBeNull();
    }
  });

  it('builds the sign-in link that comes back, or the plain one', () => {
    expect(loginPathFor('/admin/users?page=2')).toBe('/login?next=%2Fadmin%2Fusers%3Fpage%3D2');
    expect(loginPathFor('//evil.example')).toBe('/login');
  });
});
