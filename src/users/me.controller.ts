import { Body, Controller, Get, HttpCode, Put } from '@nestjs/common';
import {
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
import { ChangeEmailDto, ChangePasswordDto } from './dto/me.dto.js';
import { ProfileDto } from './dto/user.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('personal center')
@ApiBearerAuth()
@ApiProblems('UNAUTHORIZED')
@Controller('api/v1/me')
export class MeController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @AllowedWithTemporaryPassword()
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiOkResponse({ type: ProfileDto })
  async profile(@CurrentUser() me: Principal): Promise<ProfileDto> {
    return ProfileDto.from(await this.users.get(me.userId));
  }

  @Put('email')
  @ApiOperation({ summary: 'Set or change the email address (the previous address is told)' })
  @ApiOkResponse({ type: ProfileDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    'INVALID_CREDENTIALS',
    'EMAIL_TAKEN',
    'TOO_MANY_ATTEMPTS',
    'PASSWORD_CHANGE_REQUIRED',
  )
  async changeEmail(
    @Body() dto: ChangeEmailDto,
    @CurrentUser() me: Principal,
    @ClientIp() ip: string,
  ): Promise<ProfileDto> {
    return ProfileDto.from(
      await this.users.changeOwnEmail(me.userId, dto.email, dto.currentPassword, ip),
    );
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
