import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { EmailField } from '../../common/dto/fields.js';
import type { Locale } from '../../i18n/locales.js';
import { EmailVerifiedField, LocaleField, RolesField } from './fields.js';

/** Each field is optional; only `email` (unbinds the address) and `locale` may be null. */
export class UpdateUserDto {
  @EmailField({ optional: true, nullable: 'null unbinds the email' }) email?: string | null;
  @EmailVerifiedField() emailVerified?: boolean;

  @RolesField() roles?: string[];
  @LocaleField() locale?: Locale | null;

  @ApiPropertyOptional({ description: 'a disabled user cannot sign in and all their sessions end' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}
