import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { EmailField, PasswordField, UsernameField } from '../../common/dto/fields.js';
import type { Locale } from '../../i18n/locales.js';
import { EmailVerifiedField, LocaleField, RolesField } from './fields.js';

export class CreateUserDto {
  @UsernameField() username!: string;
  @PasswordField('the initial password, checked against the password policy') password!: string;
  @EmailField({ optional: true }) email?: string;
  @EmailVerifiedField() emailVerified?: boolean;
  @RolesField() roles?: string[];
  @LocaleField() locale?: Locale | null;

  @ApiPropertyOptional({
    default: true,
    description: 'the user must change the password after the first sign-in',
  })
  @IsOptional()
  @IsBoolean()
  temporaryPassword?: boolean;
}
