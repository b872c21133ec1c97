import { Module } from '@nestjs/common';
import { DeviceTokensService } from './device-tokens.service.js';
import { SessionsService } from './sessions.service.js';

@Module({
  providers: [SessionsService, DeviceTokensService],
  exports: [SessionsService, DeviceTokensService],
})
export class SessionsModule {}
