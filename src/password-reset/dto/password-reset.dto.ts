import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CodeField, PasswordField, SignInNameField, TokenField } from '../../common/dto/fields.js';

export class ResetRequestDto {
  @SignInNameField() identifier!: string;
}

export class ResetRequestedDto {
  @ApiProperty({
    example:
      'A reset link was sent to the email address of the account. It is valid for 5 minutes.',
  })
  message!: string;
}

export class OpenResetDto {
  @TokenField(256, 'the token of the emailed link') token!: string;
}

export class ResetSessionDto {
  @ApiProperty({ description: 'send as Authorization: Bearer … to the next steps' })
  resetToken!: string;
  @ApiProperty({ type: 'integer', example: 600, description: 'seconds' }) expiresIn!: number;
  @ApiProperty({ description: 'true: prove the existing authenticator; false: set one up first' })
  twoFactorConfigured!: boolean;
}

export class ResetCodeDto {
  @CodeField('a 6-digit authenticator code, or a recovery code') code!: string;
}

export class TwoFactorStepDto {
  @ApiProperty({ enum: ['TWO_FACTOR_VERIFIED'] }) stage!: 'TWO_FACTOR_VERIFIED';
  @ApiPropertyOptional({
    type: [String],
    description: 'only after enrolling an authenticator here; shown once',
  })
  recoveryCodes?: string[];
}

export class NewPasswordDto {
  @PasswordField() newPassword!: string;
}
