import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Put } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AllowedWithTemporaryPassword } from '../common/decorators/allow-password-change.decorator.js';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { CurrentUser, type Principal } from '../common/decorators/current-user.decorator.js';
import { ApiProblems } from '../common/openapi.js';
import {
  ChangeEmailDto,
  ChangePasswordDto,
  PendingEmailDto,
  UpdateProfileDto,
} from './dto/me.dto.js';
import { ProfileDto } from './dto/user.dto.js';
import { EmailVerificationService } from './email-verification.service.js';
import { UsersService } from './users.service.js';

@ApiTags('personal center')
@ApiBearerAuth()
@ApiProblems('UNAUTHORIZED')
@Controller('api/v1/me')
export class MeController {
  constructor(
    private readonly users: UsersService,
    private readonly emails: EmailVerificationService,
  ) {}

  @Get()
  @AllowedWithTemporaryPassword()
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiOkResponse({ type: ProfileDto })
  async profile(@CurrentUser() me: Principal): Promise<ProfileDto> {
    return ProfileDto.from(await this.users.profile(me.userId));
  }

  @Patch()
  @ApiOperation({
    summary: "Change the signed-in user's settings: the language of their pages and mails",
    description:
      '`locale` is `en` or `zh-CN`; `null` clears the choice (pages then follow the ' +
      "browser's Accept-Language, mails DEFAULT_LOCALE). Mails already queued keep the " +
      'language they were queued in.',
  })
  @ApiOkResponse({ type: ProfileDto })
  @ApiProblems('VALIDATION_FAILED', 'PASSWORD_CHANGE_REQUIRED')
  async update(@Body() dto: UpdateProfileDto, @CurrentUser() me: Principal): Promise<ProfileDto> {
    return ProfileDto.from(await this.users.setLocale(me.userId, dto.locale));
  }

  @Put('email')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Ask to set or change the email address: a confirmation link goes to the new address',
    description:
      'Nothing changes until the link is used (`POST /api/v1/me/email/verify`): sign-in by email, ' +
      'reset links and mails keep using the previous address. A newer request kills the older ' +
      'link. Every request counts against the user and the client address (see Throttling).',
  })
  @ApiAcceptedResponse({ type: PendingEmailDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    'INVALID_CREDENTIALS',
    'EMAIL_TAKEN',
    'EMAIL_UNCHANGED',
    'TOO_MANY_ATTEMPTS',
    'PASSWORD_CHANGE_REQUIRED',
  )
  changeEmail(
    @Body() dto: ChangeEmailDto,
    @CurrentUser() me: Principal,
    @ClientIp() ip: string,
  ): Promise<PendingEmailDto> {
    return this.emails.requestChange(me.userId, dto.email, dto.currentPassword, ip);
  }

  @Post('email/pending/resend')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Mail a new confirmation link for the address waiting for confirmation',
    description:
      'An extension of the published contract. The older link dies; the new one is valid for ' +
      '`EMAIL_VERIFICATION_TTL` from now. Counts like a change request.',
  })
  @ApiAcceptedResponse({ type: PendingEmailDto })
  @ApiProblems('NO_PENDING_EMAIL', 'EMAIL_TAKEN', 'TOO_MANY_ATTEMPTS', 'PASSWORD_CHANGE_REQUIRED')
  resendEmailLink(@CurrentUser() me: Principal, @ClientIp() ip: string): Promise<PendingEmailDto> {
    return this.emails.resend(me.userId, ip);
  }

  @Delete('email/pending')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Cancel the email change waiting for confirmation: its link dies',
    description:
      'An extension of the published contract. Answers 204 also when nothing was pending; the ' +
      'bound address stays as it is.',
  })
  @ApiNoContentResponse()
  @ApiProblems('PASSWORD_CHANGE_REQUIRED')
  async cancelEmailChange(@CurrentUser() me: Principal, @ClientIp() ip: string): Promise<void> {
    await this.emails.cancel(me.userId, ip);
  }

  @Put('password')
  @HttpCode(204)
  @AllowedWithTemporaryPassword()
  @ApiOperation({ summary: 'Change the password; every other session of the user ends' })
  @ApiNoContentResponse()
  @ApiProblems(
    'VALIDATION_FAILED',
    'INVALID_CREDENTIALS',
    'PASSWORD_POLICY_VIOLATION',
    'TOO_MANY_ATTEMPTS',
  )
  async changePassword(
    @Body() dto: ChangePasswordDto,
    @CurrentUser() me: Principal,
    @ClientIp() ip: string,
  ): Promise<void> {
    await this.users.changeOwnPassword(
      me.userId,
      me.sessionId,
      dto.currentPassword,
      dto.newPassword,
      ip,
    );
  }
}
