import { EmailField, PasswordField } from './fields.js';

export class ChangeEmailDto {
  @EmailField({ optional: false }) email!: string;
  @PasswordField('the current password') currentPassword!: string;
}

export class ChangePasswordDto {
  @PasswordField('the current password') currentPassword!: string;
  @PasswordField() newPassword!: string;
}
