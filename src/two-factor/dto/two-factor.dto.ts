import { ApiProperty } from '@nestjs/swagger';
import { CodeField, PasswordField } from '../../common/dto/fields.js';

export class TwoFactorCodeDto {
  @CodeField('a 6-digit code from the authenticator app') code!: string;
}

/** Setting up an authenticator takes the password: a stolen access token alone cannot bind one. */
export class StartTwoFactorSetupDto {
  @PasswordField('the current password') currentPassword!: string;
}

export class DisableTwoFactorDto {
  @PasswordField('the current password') currentPassword!: string;

  @CodeField('a current authenticator code, or one of the recovery codes') code!: string;
}

export class TwoFactorSetupDto {
  @ApiProperty({
    description: 'base32 secret, for typing into the app by hand',
    example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
  })
  secret!: string;
  @ApiProperty({ example: 'otpauth://totp/Portcullis:alice?secret=…&issuer=Portcullis' })
  otpauthUri!: string;
  @ApiProperty({ description: 'PNG data URL of the QR code of otpauthUri' }) qrCodeDataUrl!: string;
}

export class RecoveryCodesDto {
  @ApiProperty({ type: [String], description: 'ten single-use codes, shown only this once' })
  recoveryCodes!: string[];
}
