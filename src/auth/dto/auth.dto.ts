import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import {
  HasNoInvisibleCharacters,
  INVISIBLE_CHARACTERS_RULE,
} from '../../common/validation/field-rules.js';
import { PASSWORD_INPUT_MAX } from '../../users/dto/fields.js';

export class LoginDto {
  @ApiProperty({
    description: `username or email, with ${INVISIBLE_CHARACTERS_RULE}`,
    example: 'alice',
    maxLength: 254,
  })
  @IsString()
  @MinLength(1)
  @MaxLength(254)
  @HasNoInvisibleCharacters()
  username!: string;

  @ApiProperty({ format: 'password', maxLength: PASSWORD_INPUT_MAX })
  @IsString()
  @MinLength(1)
  @MaxLength(PASSWORD_INPUT_MAX)
  password!: string;

  @ApiProperty({
    required: false,
    description:
      'the deviceToken of an earlier full sign-in on this device: the account lockout does not apply to it',
    maxLength: 128,
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  deviceToken?: string;
}

export class LoginTwoFactorDto {
  @ApiProperty({ description: 'the challengeToken of the login answer' })
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  challengeToken!: string;

  @ApiProperty({ description: 'a 6-digit authenticator code, or a recovery code' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  code!: string;

  @ApiProperty({
    required: false,
    description: 'the device token sent with the password step, kept if it is still live',
    maxLength: 128,
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  deviceToken?: string;
}

export class TwoFactorChallengeDto {
  @ApiProperty({ enum: [true] }) twoFactorRequired!: true;
  @ApiProperty({ description: 'send it with the code to /api/v1/auth/login/two-factor' })
  challengeToken!: string;
  @ApiProperty({ example: 300 }) expiresIn!: number;
}

export class RefreshTokenDto {
  @ApiProperty({ description: 'the refresh token of the last token pair' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  refreshToken!: string;
}

export class IntrospectDto {
  @ApiProperty({ description: 'an access token' })
  @IsString()
  @MinLength(1)
  @MaxLength(8192)
  token!: string;
}

export class TokenPairDto {
  @ApiProperty({ description: 'ES256 JWT; verify with /.well-known/jwks.json' })
  accessToken!: string;
  @ApiProperty({ description: 'opaque; single use: each refresh returns a new one' })
  refreshToken!: string;
  @ApiProperty({ enum: ['Bearer'] }) tokenType!: 'Bearer';
  @ApiProperty({ description: 'seconds until the access token expires', example: 900 })
  expiresIn!: number;
}

/** A full sign-in: the token pair and this device's token. */
export class SignInDto extends TokenPairDto {
  @ApiProperty({
    description:
      'opaque; send it as deviceToken with later logins from this device, so that a lockout of the account by others does not apply to them',
  })
  deviceToken!: string;
}

export class IntrospectionDto {
  @ApiProperty() active!: boolean;
  @ApiProperty({ required: false }) sub?: string;
  @ApiProperty({ required: false }) sid?: string;
  @ApiProperty({ required: false }) exp?: number;
  @ApiProperty({ required: false }) iat?: number;
  @ApiProperty({ required: false }) iss?: string;
  @ApiProperty({ required: false, description: 'PUBLIC_URL' }) aud?: string;
  @ApiProperty({ required: false }) jti?: string;
  @ApiProperty({ required: false }) username?: string;
  @ApiProperty({ required: false, type: [String] }) roles?: string[];
  @ApiProperty({ required: false, type: [String] }) amr?: string[];
  @ApiProperty({ required: false, enum: ['Bearer'] }) token_type?: string;
}
