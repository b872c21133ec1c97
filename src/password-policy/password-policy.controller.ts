import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/decorators/public.decorator.js';
import { PasswordPolicyService } from './password-policy.service.js';
import type { PasswordRule } from './password-policy.js';

class PolicyRuleDto {
  @ApiProperty({
    enum: ['minLength', 'maxLength', 'notUsername', 'notEmail', 'notCommon', 'notRecent'],
  })
  rule!: PasswordRule;
  @ApiProperty() description!: string;
}

class PasswordPolicyDto {
  @ApiProperty({ type: 'integer', example: 8 }) minLength!: number;
  @ApiProperty({ type: 'integer', example: 128 }) maxLength!: number;
  @ApiProperty({
    type: 'integer',
    example: 3,
    description: 'a new password may not equal any of the last N',
  })
  historySize!: number;
  @ApiProperty({ type: [PolicyRuleDto] }) rules!: PolicyRuleDto[];
}

@ApiTags('password policy')
@Controller('api/v1/password-policy')
export class PasswordPolicyController {
  constructor(private readonly policy: PasswordPolicyService) {}

  @Public()
  @Get()
  @ApiOperation({ summary: 'The password rules in force, for showing before the user types' })
  @ApiOkResponse({ type: PasswordPolicyDto })
  describe(): PasswordPolicyDto {
    return this.policy.describe();
  }
}
