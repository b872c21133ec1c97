import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { CurrentUser, type Principal } from '../common/decorators/current-user.decorator.js';
import { Roles } from '../common/decorators/roles.decorator.js';
import { ApiProblems } from '../common/openapi.js';
import { SigningKeys, type SigningKeyView } from './signing-keys.service.js';

class SigningKeyDto {
  @ApiProperty({ example: 'Yq1QX3o1b0dM0m8S4mB8q0sN6H0v7u1y2l3k4j5h6g7' })
  kid!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  retiredAt!: string | null;

  @ApiProperty({ description: 'whether the JWKS publishes it (tokens it signed may still live)' })
  published!: boolean;

  static from(view: SigningKeyView): SigningKeyDto {
    return {
      kid: view.kid,
      createdAt: view.createdAt.toISOString(),
      retiredAt: view.retiredAt?.toISOString() ?? null,
      published: view.published,
    };
  }
}

class RotatedKeyDto {
  @ApiProperty({ description: 'the key that signs from now on' })
  kid!: string;
}

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@ApiProblems('UNAUTHORIZED', 'FORBIDDEN', 'PASSWORD_CHANGE_REQUIRED')
@Controller('api/v1/admin/signing-keys')
export class AdminSigningKeysController {
  constructor(private readonly keys: SigningKeys) {}

  @Get()
  @ApiOperation({ summary: 'The signing keys, active and retired, newest first' })
  @ApiOkResponse({ type: [SigningKeyDto], description: 'newest first' })
  async list(): Promise<SigningKeyDto[]> {
    return (await this.keys.list()).map((k) => SigningKeyDto.from(k));
  }

  @Post('rotate')
  @HttpCode(201)
  @ApiOperation({
    summary:
      'Sign with a new key from now on (every instance within a second); the old one stays in the JWKS until its tokens expire',
  })
  @ApiCreatedResponse({ type: RotatedKeyDto })
  @ApiProblems('SIGNING_KEY_EXTERNAL')
  async rotate(@CurrentUser() me: Principal, @ClientIp() ip: string): Promise<RotatedKeyDto> {
    const kid = await this.keys.rotate({ id: me.userId, ip });
    return { kid: kid! };
  }
}
