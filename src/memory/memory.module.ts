import {
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Settings } from '../config/settings.js';
import { MemoryTrimmer, processMemory, TICK_MS } from './memory-trimmer.js';

const MIB = 1024 * 1024;

/** Runs the MemoryTrimmer of this process on a timer, unless MEMORY_TRIM_AFTER_IDLE is 0. */
@Injectable()
export class MemoryTrimming implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Memory');
  private readonly idleMs: number;
  private timer?: NodeJS.Timeout;

  constructor(config: ConfigService<Settings, true>) {
    this.idleMs = config.get('memory', { infer: true }).trimAfterIdle * 1000;
  }

  onApplicationBootstrap(): void {
    if (this.idleMs === 0) {
      return;
    }
    const trimmer = new MemoryTrimmer(processMemory(), this.idleMs);
    this.timer = setInterval(() => {
      const trim = trimmer.tick();
      if (trim) {
        this.logger.debug(
          `idle: gave memory back, resident ${Math.round(trim.beforeBytes / MIB)} → ` +
            `${Math.round(trim.afterBytes / MIB)} MiB in ${Math.round(trim.ms)} ms`,
        );
      }
    }, TICK_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}

@Module({ providers: [MemoryTrimming] })
export class MemoryModule {}
