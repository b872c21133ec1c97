import { Global, Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Clock } from '../common/clock.js';
import type { Settings } from '../config/settings.js';
import { AttemptLimiter, ATTEMPT_STORE } from './attempt-limiter.service.js';
import { MemoryAttemptStore } from './attempt-store.js';
import { RedisAttemptStore } from './redis-attempt-store.js';
import { LoginThrottle } from './login-throttle.js';

@Global()
@Module({
  providers: [
    {
      provide: ATTEMPT_STORE,
      inject: [ConfigService, Clock],
      useFactory: async (config: ConfigService<Settings, true>, clock: Clock) => {
        const { url, keyPrefix } = config.get('redis', { infer: true });
        if (!url) {
          return new MemoryAttemptStore(() => clock.now().getTime());
        }
        // Loaded only when Redis is configured.
        const { Redis } = await import('ioredis');
        const redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
        // While Redis is down, attempts fail closed (503, see ProblemDetailsFilter); say so once.
        const logger = new Logger('Redis');
        let down = false;
        redis.on('error', (error: Error) => {
          if (!down) {
            down = true;
            logger.warn(
              `Redis cannot be reached (${error.message}): sign-ins answer 503 until it is back`,
            );
          }
        });
        redis.on('ready', () => {
          if (down) {
            down = false;
            logger.log('Redis is back');
          }
        });
        return new RedisAttemptStore(redis, keyPrefix);
      },
    },
    AttemptLimiter,
    LoginThrottle,
  ],
  exports: [AttemptLimiter, LoginThrottle],
})
export class RateLimitModule {}
