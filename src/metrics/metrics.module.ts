import { Global, Module } from '@nestjs/common';
import { MetricsService } from './metrics.service.js';

/** The Prometheus registry; it is served on MANAGEMENT_PORT only (see health/management-server.ts). */
@Global()
@Module({ providers: [MetricsService], exports: [MetricsService] })
export class MetricsModule {}
