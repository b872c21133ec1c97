import { Body, Controller, Get, Header, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBearerAuth,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { AllowClientCredentials } from '../common/decorators/client-credentials.decorator.js';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { Public } from '../common/decorators/public.decorator.js';
import { Roles } from '../common/decorators/roles.decorator.js';
import { ApiProblems } from '../common/openapi.js';
import { AuthService } from './auth.service.js';
import { ClientCredentialsGuard } from './guards/client-credentials.guard.js';
import {
  IntrospectDto,
  IntrospectionDto,
  LoginDto,
  LoginTwoFactorDto,
  RefreshTokenDto,
  SignInDto,
  TokenPairDto,
  TwoFactorChallengeDto,
} from './dto/auth.dto.js';
import { SigningKeys, type PublicJwk } from './signing-keys.service.js';

@ApiTags('auth')
@Public()
@ApiExtraModels(SignInDto, TwoFactorChallengeDto)
@Controller('api/v1/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign in with username (or email) and password; with 2FA on, a challenge for the code',
  })
  @ApiOkResponse({
    schema: {
      oneOf: [{ $ref: getSchemaPath(SignInDto) }, { $ref: getSchemaPath(TwoFactorChallengeDto) }],
    },
  })
  @ApiProblems(
    'VALIDATION_FAILED',
    { code: 'INVALID_CREDENTIALS', detail: 'The username or password is not correct.' },
    'PASSWORD_EXPIRED',
    'ACCOUNT_DISABLED',
    'TOO_MANY_ATTEMPTS',
  )
  login(@Body() dto: LoginDto, @ClientIp() ip: string): Promise<SignInDto | TwoFactorChallengeDto> {
    return this.auth.login(dto.username, dto.password, ip, dto.deviceToken);
  }

  @Post('login/two-factor')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Second sign-in step: the challenge plus an authenticator or recovery code',
  })
  @ApiOkResponse({ type: SignInDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    { code: 'INVALID_TOTP_CODE', status: 401 },
    'CHALLENGE_INVALID',
    'PASSWORD_EXPIRED',
    'ACCOUNT_DISABLED',
    'TOO_MANY_ATTEMPTS',
  )
  loginTwoFactor(@Body() dto: LoginTwoFactorDto, @ClientIp() ip: string): Promise<SignInDto> {
    return this.auth.loginTwoFactor(dto.challengeToken, dto.code, ip, dto.deviceToken);
  }

  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a refresh token for a new pair; the old one dies' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems('VALIDATION_FAILED', 'INVALID_REFRESH_TOKEN')
  refresh(@Body() dto: RefreshTokenDto, @ClientIp() ip: string): Promise<TokenPairDto> {
    return this.auth.refresh(dto.refreshToken, ip);
  }

  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'End the session of a refresh token' })
  @ApiNoContentResponse()
  @ApiProblems('VALIDATION_FAILED')
  async logout(@Body() dto: RefreshTokenDto, @ClientIp() ip: string): Promise<void> {
    await this.auth.logout(dto.refreshToken, ip);
  }
}

/**
 * RFC 7662 asks the caller of introspection to authenticate: an admin's access token, or an
 * OpenID Connect client's own credentials (HTTP Basic). Anonymous callers get 401.
 */
@ApiTags('auth')
@ApiBearerAuth()
@ApiBasicAuth('client')
@Roles('admin')
@AllowClientCredentials()
@UseGuards(ClientCredentialsGuard)
@ApiProblems('UNAUTHORIZED', 'FORBIDDEN', 'PASSWORD_CHANGE_REQUIRED')
@Controller('api/v1/auth')
export class IntrospectionController {
  constructor(private readonly auth: AuthService) {}

  @Post('introspect')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'RFC 7662: is this access token live (signature, expiry, session, user)? Admins and OpenID Connect clients',
  })
  @ApiOkResponse({ type: IntrospectionDto })
  @ApiProblems('VALIDATION_FAILED')
  introspect(@Body() dto: IntrospectDto): Promise<IntrospectionDto> {
    return this.auth.introspect(dto.token);
  }
}

/**
 * How long verifiers may cache the JWKS. Modest: a key published ahead of a rotation reaches every
 * verifier within minutes, and a key withdrawn after a compromise stops being trusted as soon.
 */
export const JWKS_MAX_AGE_SECONDS = 300;

@ApiTags('auth')
@Public()
@Controller('.well-known')
export class JwksController {
  constructor(private readonly keys: SigningKeys) {}

  @Get('jwks.json')
  @Header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
  @ApiOperation({ summary: 'Public keys (ES256) that verify access tokens' })
  @ApiOkResponse({
    description: 'the JSON Web Key Set',
    headers: {
      'Cache-Control': {
        description: 'verifiers may cache the keys this long',
        schema: { type: 'string', example: `public, max-age=${JWKS_MAX_AGE_SECONDS}` },
      },
    },
  })
  jwks(): { keys: PublicJwk[] } {
    return this.keys.jwks();
  }
}
