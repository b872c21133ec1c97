import { describe, expect, it } from '@jest/globals';
import { checkPassword, describePolicy, passwordLength } from './password-policy.js';

const policy = {
  minLength: 8,
  maxLength: 128,
  history: 3,
  contextWords: ['portcullis', 'acme id'],
};
const rules = (
  password: string,
  username = 'alice',
  email: string | null = 'alice.smith@example.com',
) => checkPassword(policy, password, { username, email }).map((v) => v.rule);

describe('checkPassword', () => {
  it('accepts a long, personal-data-free, uncommon password', () => {
    expect(rules('correct horse battery staple')).toEqual([]);
  });

  it('rejects a password shorter than the minimum', () => {
    expect(rules('x7#kQ2')).toEqual(['minLength']);
  });

  it('rejects a password longer than the maximum instead of truncating it', () => {
    expect(rules('k'.repeat(128) + 'Z')).toContain('maxLength');
    expect(rules('kq'.repeat(64))).not.toContain('maxLength');
  });

  it('counts Unicode code points, not UTF-16 units', () => {
    expect(passwordLength('🔑🔑🔑🔑')).toBe(4);
    expect(rules('🔑🔒🗝🔐🔓🛡🏰')).toEqual(['minLength']);
    expect(rules('🔑🔒🗝🔐🔓🛡🏰🚪')).toEqual([]);
  });

  it('treats composed and decomposed accents as the same text', () => {
    expect(passwordLength('e\u0301'.repeat(8))).toBe(8);
  });

  it('rejects the name of the service and the TOTP issuer, whatever the case', () => {
    expect(rules('my PortCullis secret')).toEqual(['notContextWord']);
    expect(rules('the ACME ID of mine')).toEqual(['notContextWord']);
  });

  it('rejects one character repeated and runs of consecutive characters', () => {
    expect(rules('x'.repeat(64))).toContain('notRepetitive');
    expect(rules('abababababab')).toContain('notRepetitive');
    expect(rules('abcdefghijklmnop')).toContain('notRepetitive');
    expect(rules('ABCDEFGHIJ')).toContain('notRepetitive');
    expect(rules('987654321')).toContain('notRepetitive');
    // A passphrase that merely contains a run is fine.
    expect(rules('lock 123456 door')).toEqual([]);
    expect(rules('abcdefgz')).toEqual([]);
  });

  it('rejects a password containing the username, whatever the case', () => {
    expect(rules('my-ALICE-secret-9')).toContain('notUsername');
  });

  it("rejects a password containing the email's local part", () => {
    expect(rules('xx-Alice.Smith-99', 'bob')).toContain('notEmail');
  });

  it.each(['password123', 'qwerty123', '12345678', 'Password123', 'iloveyou'])(
    'rejects the common password %p',
    (password) => {
      expect(rules(password, 'zz', null)).toContain('notCommon');
    },
  );

  it('accepts spaces and any character without composition rules', () => {
    expect(rules('    tabs\tand spaces    ', 'zz', null)).toEqual([]);
  });

  it('reports every broken rule at once', () => {
    expect(rules('alice')).toEqual(expect.arrayContaining(['minLength', 'notUsername']));
  });
});

describe('describePolicy', () => {
  it('describes the policy in force, history included', () => {
    const description = describePolicy(policy);
    expect(description).toMatchObject({ minLength: 8, maxLength: 128, historySize: 3 });
    expect(description.rules.map((r) => r.rule)).toEqual([
      'minLength',
      'maxLength',
      'notUsername',
      'notEmail',
      'notContextWord',
      'notRepetitive',
      'notCommon',
      'notRecent',
    ]);
  });
});
