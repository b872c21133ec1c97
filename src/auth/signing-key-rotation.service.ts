import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Clock } from '../common/clock.js';
import type { Settings } from '../config/settings.js';
import { SigningKeys } from './signing-keys.service.js';

/** How often each instance checks whether the key is due for rotation and drops expired ones. */
const MAINTENANCE_INTERVAL_MS = 60_000;

/**
 * Rotates a stored signing key every SIGNING_KEY_ROTATION, on every instance's timer: the first
 * instance to find the key due rotates it (SigningKeys.rotate checks the age again under its
 * lock, so the others do nothing). Each tick also reloads the keys, which forgets retired keys
 * whose tokens have all expired. A key from JWT_PRIVATE_KEY(_FILE) is never rotated here.
 */
@Injectable()
export class SigningKeyRotation implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('SigningKeys');
  private readonly rotationMs: number;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly keys: SigningKeys,
    private readonly clock: Clock,
    config: ConfigService<Settings, true>,
  ) {
    this.rotationMs = config.get('tokens', { infer: true }).signingKeyRotation * 1000;
  }

  onApplicationBootstrap(): void {
    if (this.keys.external) {
      return;
    }
    // Short rotation periods (tests, or the very cautious) are checked more often.
    const every =
      this.rotationMs > 0
        ? Math.min(MAINTENANCE_INTERVAL_MS, Math.max(1_000, this.rotationMs / 2))
        : MAINTENANCE_INTERVAL_MS;
    this.timer = setInterval(() => void this.maintain(), every);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Rotates when the active key is due, and forgets retired keys whose tokens have all expired. */
  async maintain(): Promise<void> {
    try {
      const due =
        this.rotationMs > 0 &&
        this.clock.now().getTime() - this.keys.activeSince.getTime() >= this.rotationMs;
      if (due) {
        await this.keys.rotate({ id: null, ip: null }, this.rotationMs);
      }
      await this.keys.reload();
    } catch (error) {
      this.logger.warn(
        `signing key maintenance failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
