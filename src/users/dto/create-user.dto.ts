import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { EmailField, PasswordField, UsernameField } from '../../common/dto/fields.js';
import { EmailVerifiedField, RolesField } from './fields.js';

export class CreateUserDto {
  @UsernameField() username!: string;
  @PasswordField('the initial password, checked against the password policy') password!: string;
  @EmailField({ optional: true }) email?: string;
  @EmailVerifiedField() emailVerified?: boolean;
  @RolesField() roles?: string[];

  @ApiPropertyOptional({
    default: true,
    description: 'the user must change the password after the first sign-in',
  })
  @IsOptional()
  @IsBoolean()
  temporaryPassword?: boolean;
}
