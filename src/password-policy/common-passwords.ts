import { dictionary } from '@zxcvbn-ts/language-common';

let cached: ReadonlySet<string> | undefined;

/**
 * The most common breached passwords (about 49,000, from zxcvbn-ts's maintained list), compared
 * case-insensitively. Loaded once, on first use.
 */
export function commonPasswords(): ReadonlySet<string> {
  cached ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  return cached;
}
