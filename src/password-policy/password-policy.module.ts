import { Module } from '@nestjs/common';
import { PasswordHasher } from './password-hasher.service.js';
import { PasswordPolicyController } from './password-policy.controller.js';
import { PasswordPolicyService } from './password-policy.service.js';

@Module({
  providers: [PasswordHasher, PasswordPolicyService],
  controllers: [PasswordPolicyController],
  exports: [PasswordHasher, PasswordPolicyService],
})
export class PasswordPolicyModule {}
