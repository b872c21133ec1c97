import { ApiProperty } from '@nestjs/swagger';
import {
  CodeField,
  PasswordField,
  SignInNameField,
  StringField,
  TokenField,
} from '../../common/dto/fields.js';

/** A device token as a client sends it back; the empty string counts as none. */
const DEVICE_TOKEN_MAX_LENGTH = 128;

export class LoginDto {
  @SignInNameField() username!: string;

  @PasswordField('the password') password!: string;

  @StringField({
    optional: true,
    maxLength: DEVICE_TOKEN_MAX_LENGTH,
    description:
      'the deviceToken of an earlier full sign-in on this device: the account lockout does not apply to it',
  })
  deviceToken?: string;
}

export class LoginTwoFactorDto {
  @TokenField(2048, 'the challengeToken of the login answer') challengeToken!: string;

  @CodeField('a 6-digit authenticator code, or a recovery code') code!: string;

  @StringField({
    optional: true,
    maxLength: DEVICE_TOKEN_MAX_LENGTH,
    description: 'the device token sent with the password step, kept if it is still live',
  })
  deviceToken?: string;
}

export class TwoFactorChallengeDto {
  @ApiProperty({ enum: [true] }) twoFactorRequired!: true;
  @ApiProperty({ description: 'send it with the code to /api/v1/auth/login/two-factor' })
  challengeToken!: string;
  @ApiProperty({ type: 'integer', example: 300, description: 'seconds' }) expiresIn!: number;
}

export class RefreshTokenDto {
  @TokenField(256, 'the refresh token of the last token pair') refreshToken!: string;
}

export class IntrospectDto {
  @TokenField(8192, 'an access token') token!: string;
}

export class TokenPairDto {
  @ApiProperty({ description: 'ES256 JWT; verify with /.well-known/jwks.json' })
  accessToken!: string;
  @ApiProperty({ description: 'opaque; single use: each refresh returns a new one' })
  refreshToken!: string;
  @ApiProperty({ enum: ['Bearer'] }) tokenType!: 'Bearer';
  @ApiProperty({
    type: 'integer',
    description: 'seconds until the access token expires',
    example: 900,
  })
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
  @ApiProperty({ required: false, type: 'integer', description: 'seconds since the epoch' })
  exp?: number;
  @ApiProperty({ required: false, type: 'integer', description: 'seconds since the epoch' })
  iat?: number;
  @ApiProperty({ required: false }) iss?: string;
  @ApiProperty({ required: false, description: 'PUBLIC_URL' }) aud?: string;
  @ApiProperty({ required: false }) jti?: string;
  @ApiProperty({ required: false }) username?: string;
  @ApiProperty({ required: false, type: [String] }) roles?: string[];
  @ApiProperty({ required: false, type: [String] }) amr?: string[];
  @ApiProperty({ required: false, enum: ['Bearer'] }) token_type?: string;
}
