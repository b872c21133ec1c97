import { ApiProperty } from '@nestjs/swagger';
import { EmailField, PasswordField, TokenField } from '../../common/dto/fields.js';
import type { Locale } from '../../i18n/locales.js';
import { LocaleField } from './fields.js';

export class ChangeEmailDto {
  @EmailField({ optional: false }) email!: string;
  @PasswordField('the current password') currentPassword!: string;
}

/** Where the confirmation link went; nothing else changes until it is used. */
export class PendingEmailDto {
  @ApiProperty({
    example: 'alice@example.org',
    description: 'the address waiting for confirmation',
  })
  pendingEmail!: string;
  @ApiProperty({ type: 'integer', example: 86400, description: 'seconds the mailed link works' })
  expiresIn!: number;
}

export class VerifyEmailDto {
  @TokenField(256, 'the token of the mailed link (`/verify-email?token=…`)') token!: string;
}

export class ChangePasswordDto {
  @PasswordField('the current password') currentPassword!: string;
  @PasswordField() newPassword!: string;
}

/** The personal settings a user changes with PATCH /api/v1/me. */
export class UpdateProfileDto {
  @LocaleField({ required: true }) locale!: Locale | null;
}
