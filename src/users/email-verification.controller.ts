import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { Public } from '../common/decorators/public.decorator.js';
import { ApiProblems } from '../common/openapi.js';
import { VerifyEmailDto } from './dto/me.dto.js';
import { ProfileDto } from './dto/user.dto.js';
import { EmailVerificationService } from './email-verification.service.js';

/** The mailed link's API: public, because the token is the proof. */
@ApiTags('personal center')
@Controller('api/v1/me/email')
export class EmailVerificationController {
  constructor(private readonly emails: EmailVerificationService) {}

  @Post('verify')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Use the mailed link: binds its address (verified) and tells the previous address',
    description:
      'Public: the token is the proof. The link works once, for `EMAIL_VERIFICATION_TTL`; ' +
      'binding the address ends live password-reset links and sessions. Refused links count ' +
      'against the client address.',
  })
  @ApiOkResponse({ type: ProfileDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    'EMAIL_VERIFICATION_INVALID',
    'EMAIL_VERIFICATION_EXPIRED',
    'EMAIL_VERIFICATION_USED',
    'EMAIL_TAKEN',
    'TOO_MANY_ATTEMPTS',
  )
  async verify(@Body() dto: VerifyEmailDto, @ClientIp() ip: string): Promise<ProfileDto> {
    return ProfileDto.from(await this.emails.verify(dto.token, ip));
  }
}
