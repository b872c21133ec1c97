import { Module } from '@nestjs/common';
import { DeviceTokensRepository } from './device-tokens.repository.js';
import { DeviceTokensService } from './device-tokens.service.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';

@Module({
  providers: [SessionsRepository, SessionsService, DeviceTokensRepository, DeviceTokensService],
  exports: [SessionsService, DeviceTokensService],
})
export class SessionsModule {}
