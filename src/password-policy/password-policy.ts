import { commonPasswords } from './common-passwords.js';

export type PasswordRule =
  | 'minLength'
  | 'maxLength'
  | 'notUsername'
  | 'notEmail'
  | 'notContextWord'
  | 'notRepetitive'
  | 'notCommon'
  | 'notRecent';

export interface PolicySettings {
  minLength: number;
  maxLength: number;
  history: number;
  /** Words of this service a password must not contain (NIST 800-63B's "context-specific words"). */
  contextWords: string[];
}

/** The service's own name: always a context word, whatever TOTP_ISSUER says. */
export const SERVICE_NAME = 'portcullis';

/**
 * One short unit repeated (`xxxxxxxx`, `abababab`, `abcabcabc`) or a run of consecutive
 * characters up or down (`abcdefgh`, `987654321`), case-insensitively: what NIST 800-63B calls
 * repetitive or sequential. Checked on the whole password: a passphrase may contain `123`.
 */
export function isRepetitiveOrSequential(password: string): boolean {
  const chars = [...password.toLowerCase()];
  if (chars.length < 2) {
    return false;
  }
  for (let unit = 1; unit <= 3 && unit < chars.length; unit++) {
    if (chars.every((c, i) => c === chars[i % unit])) {
      return true;
    }
  }
  const codes = chars.map((c) => c.codePointAt(0) ?? 0);
  const step = codes[1] - codes[0];
  return Math.abs(step) === 1 && codes.every((code, i) => i === 0 || code - codes[i - 1] === step);
}

export interface PasswordContext {
  username: string;
  email?: string | null;
}

export interface RuleViolation {
  rule: PasswordRule;
  message: string;
}

/** Passwords are compared and hashed in Unicode NFC, so the same text typed on two keyboards matches. */
export function normalizePassword(password: string): string {
  return password.normalize('NFC');
}

/** Length in Unicode code points, not UTF-16 units: "🔑" is one character. */
export function passwordLength(password: string): number {
  return [...normalizePassword(password)].length;
}

/**
 * The password rules that need no database: length, personal data and the common-password
 * list. `notRecent` (history) needs hashes and is checked by the service. Returns every broken
 * rule, so a user fixes them all at once.
 */
export function checkPassword(
  policy: PolicySettings,
  password: string,
  ctx: PasswordContext,
): RuleViolation[] {
  const text = normalizePassword(password);
  const lower = text.toLowerCase();
  const length = passwordLength(text);
  const violations: RuleViolation[] = [];
  if (length < policy.minLength) {
    violations.push({
      rule: 'minLength',
      message: `must be at least ${policy.minLength} characters long`,
    });
  }
  if (length > policy.maxLength) {
    violations.push({
      rule: 'maxLength',
      message: `must be at most ${policy.maxLength} characters long`,
    });
  }
  if (ctx.username && lower.includes(ctx.username.toLowerCase())) {
    violations.push({ rule: 'notUsername', message: 'must not contain the username' });
  }
  const localPart = ctx.email?.split('@')[0]?.toLowerCase();
  if (localPart && localPart.length >= 3 && lower.includes(localPart)) {
    violations.push({ rule: 'notEmail', message: 'must not contain the email address' });
  }
  const word = policy.contextWords.find((w) => w.length >= 3 && lower.includes(w.toLowerCase()));
  if (word) {
    violations.push({
      rule: 'notContextWord',
      message: `must not contain the name of this service ("${word}")`,
    });
  }
  if (isRepetitiveOrSequential(text)) {
    violations.push({
      rule: 'notRepetitive',
      message: 'must not be one character repeated or a run of consecutive characters',
    });
  }
  if (commonPasswords().has(lower)) {
    violations.push({
      rule: 'notCommon',
      message: 'is too common: it appears in lists of breached passwords',
    });
  }
  return violations;
}

export interface PolicyDescription {
  minLength: number;
  maxLength: number;
  historySize: number;
  rules: { rule: PasswordRule; description: string }[];
}

export function describePolicy(policy: PolicySettings): PolicyDescription {
  const rules: PolicyDescription['rules'] = [
    {
      rule: 'minLength',
      description: `At least ${policy.minLength} characters (any characters, spaces included)`,
    },
    { rule: 'maxLength', description: `At most ${policy.maxLength} characters` },
    { rule: 'notUsername', description: 'Must not contain your username' },
    { rule: 'notEmail', description: 'Must not contain the name part of your email address' },
    {
      rule: 'notContextWord',
      description: `Must not contain the name of this service (${policy.contextWords.join(', ')})`,
    },
    {
      rule: 'notRepetitive',
      description: 'Must not be one character repeated or a run like abcdefgh or 12345678',
    },
    { rule: 'notCommon', description: 'Must not be a commonly used or breached password' },
  ];
  if (policy.history > 0) {
    rules.push({
      rule: 'notRecent',
      description: `Must differ from your last ${policy.history} passwords`,
    });
  }
  return {
    minLength: policy.minLength,
    maxLength: policy.maxLength,
    historySize: policy.history,
    rules,
  };
}
