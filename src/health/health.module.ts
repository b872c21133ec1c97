import { Module } from '@nestjs/common';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';
import { ManagementServer } from './management-server.js';

@Module({
  controllers: [HealthController],
  providers: [HealthService, ManagementServer],
  exports: [ManagementServer],
})
export class HealthModule {}
