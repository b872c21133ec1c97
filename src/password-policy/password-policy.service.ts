import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError } from '../common/errors/app-error.js';
import type { Settings } from '../config/settings.js';
import { PasswordHasher } from './password-hasher.service.js';
import {
  checkPassword,
  describePolicy,
  type PasswordContext,
  type PolicyDescription,
  type PolicySettings,
  type RuleViolation,
  SERVICE_NAME,
} from './password-policy.js';

/** The one password policy, used by every place a password is set. */
@Injectable()
export class PasswordPolicyService {
  readonly settings: PolicySettings;

  constructor(
    config: ConfigService<Settings, true>,
    private readonly hasher: PasswordHasher,
  ) {
    const { minLength, maxLength, history } = config.get('password', { infer: true });
    const issuer = config.get('totp', { infer: true }).issuer;
    const contextWords = [...new Set([SERVICE_NAME, issuer.toLowerCase()])];
    this.settings = { minLength, maxLength, history, contextWords };
  }

  describe(): PolicyDescription {
    return describePolicy(this.settings);
  }

  /**
   * Throws 400 PASSWORD_POLICY_VIOLATION listing every broken rule, under `field`.
   * `recentHashes` are the user's latest password hashes, newest first (current one included).
   */
  async assertAcceptable(
    password: string,
    ctx: PasswordContext,
    field: string,
    recentHashes: string[] = [],
  ): Promise<void> {
    const violations = checkPassword(this.settings, password, ctx);
    const lengthOk = !violations.some((v) => v.rule === 'maxLength');
    if (
      lengthOk &&
      (await this.matchesAny(password, recentHashes.slice(0, this.settings.history)))
    ) {
      violations.push({
        rule: 'notRecent',
        message: `must differ from your last ${this.settings.history} passwords`,
      });
    }
    if (violations.length > 0) {
      throw this.violation(field, violations);
    }
  }

  private async matchesAny(password: string, hashes: string[]): Promise<boolean> {
    const results = await Promise.all(hashes.map((h) => this.hasher.verify(h, password)));
    return results.some(Boolean);
  }

  private violation(field: string, violations: RuleViolation[]): AppError {
    return new AppError(
      'PASSWORD_POLICY_VIOLATION',
      `The password ${violations.map((v) => v.message).join('; ')}.`,
      {
        errors: violations.map((v) => ({ field, rule: v.rule, message: `${field} ${v.message}` })),
      },
    );
  }
}
