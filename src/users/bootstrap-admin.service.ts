import { randomBytes } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError } from '../common/errors/app-error.js';
import type { Settings } from '../config/settings.js';
import { AdminUsersService } from './admin-users.service.js';

/** The first admin's credentials, when Portcullis chose the password itself. */
export interface GeneratedAdmin {
  username: string;
  password: string;
}

/**
 * On first start, creates the admin from ADMIN_USERNAME/ADMIN_PASSWORD, or with a generated
 * password that main.ts prints once (see `takeGenerated`).
 */
@Injectable()
export class BootstrapAdmin implements OnApplicationBootstrap {
  private readonly logger = new Logger('BootstrapAdmin');
  private generated?: GeneratedAdmin;

  constructor(
    private readonly users: AdminUsersService,
    private readonly config: ConfigService<Settings, true>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { username, password } = this.config.get('admin', { infer: true });
    const chosen = password ?? randomBytes(18).toString('base64url');
    const created = await this.users
      .ensureBootstrapAdmin(username, chosen)
      .catch((error: unknown) => {
        if (error instanceof AppError && error.code === 'PASSWORD_POLICY_VIOLATION') {
          throw new Error(`ADMIN_PASSWORD does not meet the password policy: ${error.detail}`);
        }
        throw error;
      });
    if (!created) {
      return;
    }
    if (password) {
      this.logger.log(
        `created the first admin "${username}" with the password from ADMIN_PASSWORD`,
      );
      return;
    }
    this.generated = { username, password: chosen };
  }

  /** The generated credentials, once: the caller shows them, and they are forgotten here. */
  takeGenerated(): GeneratedAdmin | undefined {
    const generated = this.generated;
    this.generated = undefined;
    return generated;
  }
}
