import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import {
  HasNoInvisibleCharacters,
  INVISIBLE_CHARACTERS_RULE,
} from '../../common/validation/field-rules.js';
import { PasswordField } from '../../users/dto/fields.js';

export class ResetRequestDto {
  @ApiProperty({
    description: `username or email, with ${INVISIBLE_CHARACTERS_RULE}`,
    example: 'alice',
    maxLength: 254,
  })
  @IsString()
  @MinLength(1)
  @MaxLength(254)
  @HasNoInvisibleCharacters()
  identifier!: string;
}

export class ResetRequestedDto {
  @ApiProperty({
    example:
      'A reset link was sent to the email address of the account. It is valid for 5 minutes.',
  })
  message!: string;
}

export class OpenResetDto {
  @ApiProperty({ description: 'the token of the emailed link' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  token!: string;
}

export class ResetSessionDto {
  @ApiProperty({ description: 'send as Authorization: Bearer … to the next steps' })
  resetToken!: string;
  @ApiProperty({ example: 600 }) expiresIn!: number;
  @ApiProperty({ description: 'true: prove the existing authenticator; false: set one up first' })
  twoFactorConfigured!: boolean;
}

export class ResetCodeDto {
  @ApiProperty({ description: 'a 6-digit authenticator code, or a recovery code' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  code!: string;
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
