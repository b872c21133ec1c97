import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { SignInDto } from '../auth/dto/auth.dto.js';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { Public } from '../common/decorators/public.decorator.js';
import { ApiProblems } from '../common/openapi.js';
import { TwoFactorSetupDto } from '../two-factor/dto/two-factor.dto.js';
import {
  NewPasswordDto,
  OpenResetDto,
  ResetCodeDto,
  ResetRequestDto,
  ResetRequestedDto,
  ResetSessionDto,
  TwoFactorStepDto,
} from './dto/password-reset.dto.js';
import { CurrentReset } from './guards/reset-context.decorator.js';
import { ResetStep } from './guards/reset-step.guard.js';
import { PasswordResetService, type ResetContext } from './password-reset.service.js';

@ApiTags('forgot password')
@Controller('api/v1/password-reset')
export class PasswordResetController {
  constructor(private readonly resets: PasswordResetService) {}

  @Post('requests')
  @Public()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Ask for a reset link by username or email; answered once the mail is queued',
  })
  @ApiAcceptedResponse({ type: ResetRequestedDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    {
      code: 'USER_NOT_FOUND',
      detail: 'Incorrect username: no account has this username or email.',
    },
    'NO_EMAIL_BOUND',
    'TOO_MANY_ATTEMPTS',
  )
  request(@Body() dto: ResetRequestDto, @ClientIp() ip: string): Promise<ResetRequestedDto> {
    return this.resets.request(dto.identifier, ip);
  }

  @Post('sessions')
  @Public()
  @ApiOperation({ summary: 'Open the emailed link: uses it up and starts a reset session' })
  @ApiCreatedResponse({ type: ResetSessionDto })
  @ApiProblems('VALIDATION_FAILED', 'RESET_LINK_INVALID', 'RESET_LINK_EXPIRED', 'RESET_LINK_USED')
  open(@Body() dto: OpenResetDto, @ClientIp() ip: string): Promise<ResetSessionDto> {
    return this.resets.openLink(dto.token, ip);
  }

  @Post('two-factor/setup')
  @ResetStep('two-factor')
  @HttpCode(200)
  @ApiOperation({ summary: 'For a user without 2FA: a new authenticator secret and its QR code' })
  @ApiOkResponse({ type: TwoFactorSetupDto })
  @ApiProblems({
    code: 'TWO_FACTOR_ALREADY_CONFIGURED',
    detail: 'Your account already has an authenticator: enter a code from it (or a recovery code).',
  })
  setup(@CurrentReset() reset: ResetContext): Promise<TwoFactorSetupDto> {
    return this.resets.twoFactorSetup(reset);
  }

  @Post('two-factor/verify')
  @ResetStep('two-factor')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Prove the configured authenticator (or a recovery code), or enrol the new one',
  })
  @ApiOkResponse({ type: TwoFactorStepDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    'INVALID_TOTP_CODE',
    {
      code: 'TWO_FACTOR_SETUP_REQUIRED',
      detail: 'Set up an authenticator first (POST …/two-factor/setup).',
    },
    'TOO_MANY_ATTEMPTS',
  )
  verify(
    @CurrentReset() reset: ResetContext,
    @Body() dto: ResetCodeDto,
    @ClientIp() ip: string,
  ): Promise<TwoFactorStepDto> {
    return this.resets.twoFactorVerify(reset, dto.code, ip);
  }

  @Post('password')
  @ResetStep('password')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Set the new password; every other session ends and the user is signed in',
  })
  @ApiOkResponse({ type: SignInDto })
  @ApiProblems('VALIDATION_FAILED', 'PASSWORD_POLICY_VIOLATION')
  complete(
    @CurrentReset() reset: ResetContext,
    @Body() dto: NewPasswordDto,
    @ClientIp() ip: string,
  ): Promise<SignInDto> {
    return this.resets.complete(reset, dto.newPassword, ip);
  }
}
