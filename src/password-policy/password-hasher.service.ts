import { type OnApplicationBootstrap, Injectable, type OnModuleInit } from '@nestjs/common';
import argon2 from 'argon2';
import { normalizePassword } from './password-policy.js';

/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane (~20 ms per verify here). */
export const ARGON2_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
} as const;

/** argon2id hashing of passwords and other low-entropy secrets, in Unicode NFC. */
@Injectable()
export class PasswordHasher implements OnModuleInit, OnApplicationBootstrap {
  private dummyHash = '';
  private dummyHashing?: Promise<string>;

  /**
   * The dummy hash is made on a libuv thread while the other modules start (their keys, database
   * checks) instead of before them; the start still waits for it, and fails if it fails.
   */
  onModuleInit(): void {
    this.dummyHashing = this.hash('portcullis-dummy-password-for-timing');
    this.dummyHashing.catch(() => undefined);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.dummyHash = await this.dummyHashing!;
  }

  hash(password: string): Promise<string> {
    return argon2.hash(normalizePassword(password), ARGON2_OPTIONS);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, normalizePassword(password));
    } catch {
      return false;
    }
  }

  /** Spends the time of a real verify, so an unknown user answers as slowly as a wrong password. */
  async verifyDummy(password: string): Promise<void> {
    await this.verify(this.dummyHash, password);
  }

  /** True when a stored hash was made with other parameters and should be replaced. */
  needsRehash(hash: string): boolean {
    try {
      return argon2.needsRehash(hash, ARGON2_OPTIONS);
    } catch {
      return true;
    }
  }
}
