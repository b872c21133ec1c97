import { Body, Controller, Delete, HttpCode, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { CurrentUser, type Principal } from '../common/decorators/current-user.decorator.js';
import { ApiProblems } from '../common/openapi.js';
import {
  DisableTwoFactorDto,
  RecoveryCodesDto,
  StartTwoFactorSetupDto,
  TwoFactorCodeDto,
  TwoFactorSetupDto,
} from '../two-factor/dto/two-factor.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('personal center')
@ApiBearerAuth()
@ApiProblems('UNAUTHORIZED', 'PASSWORD_CHANGE_REQUIRED')
@Controller('api/v1/me/two-factor')
export class MeTwoFactorController {
  constructor(private readonly users: UsersService) {}

  @Post('setup')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Start setting up an authenticator app (confirmed with the password): a new secret and its QR code',
  })
  @ApiOkResponse({ type: TwoFactorSetupDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    'INVALID_CREDENTIALS',
    'TWO_FACTOR_ALREADY_CONFIGURED',
    'TOO_MANY_ATTEMPTS',
  )
  setup(
    @Body() dto: StartTwoFactorSetupDto,
    @CurrentUser() me: Principal,
    @ClientIp() ip: string,
  ): Promise<TwoFactorSetupDto> {
    return this.users.startTwoFactorSetup(me.userId, dto.currentPassword, ip);
  }

  @Post('enable')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Prove the new authenticator with a code: 2FA is on; recovery codes are shown once',
  })
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    {
      code: 'INVALID_TOTP_CODE',
      detail: 'The code is not valid. Check the time on your phone and try the next code.',
    },
    'TWO_FACTOR_SETUP_REQUIRED',
    { code: 'TWO_FACTOR_ALREADY_CONFIGURED', detail: 'Two-factor authentication is already on.' },
    'TOO_MANY_ATTEMPTS',
  )
  async enable(
    @Body() dto: TwoFactorCodeDto,
    @CurrentUser() me: Principal,
    @ClientIp() ip: string,
  ): Promise<RecoveryCodesDto> {
    return { recoveryCodes: await this.users.confirmTwoFactorSetup(me.userId, dto.code, ip) };
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Turn 2FA off with the password and a current code (or a recovery code)',
  })
  @ApiNoContentResponse()
  @ApiProblems(
    'VALIDATION_FAILED',
    'INVALID_CREDENTIALS',
    'INVALID_TOTP_CODE',
    'TWO_FACTOR_NOT_ENABLED',
    'TOO_MANY_ATTEMPTS',
  )
  async disable(
    @Body() dto: DisableTwoFactorDto,
    @CurrentUser() me: Principal,
    @ClientIp() ip: string,
  ): Promise<void> {
    await this.users.disableTwoFactor(me.userId, dto.currentPassword, dto.code, ip);
  }
}
