import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Redis } from 'ioredis';
import { Clock } from '../common/clock.js';
import type { Settings } from '../config/settings.js';
import { AttemptLimiter, ATTEMPT_STORE } from './attempt-limiter.service.js';
import { MemoryAttemptStore, RedisAttemptStore } from './attempt-store.js';
import { LoginThrottle } from './login-throttle.js';

@Global()
@Module({
  providers: [
    {
      provide: ATTEMPT_STORE,
      inject: [ConfigService, Clock],
      useFactory: (config: ConfigService<Settings, true>, clock: Clock) => {
        const { url, keyPrefix } = config.get('redis', { infer: true });
        return url
          ? new RedisAttemptStore(
              new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true }),
              keyPrefix,
            )
          : new MemoryAttemptStore(() => clock.now().getTime());
      },
    },
    AttemptLimiter,
    LoginThrottle,
  ],
  exports: [AttemptLimiter, LoginThrottle],
})
export class RateLimitModule {}
