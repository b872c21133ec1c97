import { createRequire } from 'node:module';
import type { dictionary as Dictionary } from '@zxcvbn-ts/language-common';

let cached: ReadonlySet<string> | undefined;

/**
 * The most common breached passwords (about 49,000, from zxcvbn-ts's maintained list), compared
 * case-insensitively. Loaded once, on first use.
 */
export function commonPasswords(): ReadonlySet<string> {
  if (!cached) {
    // Loaded here, not imported at the top: the package holds every zxcvbn list (~8 MiB in
    // memory), needed only when a password is set.
    const { dictionary } = createRequire(import.meta.url)('@zxcvbn-ts/language-common') as {
      dictionary: typeof Dictionary;
    };
    cached = new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  }
  return cached;
}
