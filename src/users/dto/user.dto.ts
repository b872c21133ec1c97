import { ApiProperty } from '@nestjs/swagger';
import { LOCALES } from '../../i18n/locales.js';
import type { UserView } from '../users.service.js';

const LocaleProperty = () =>
  ApiProperty({
    type: String,
    enum: [...LOCALES],
    nullable: true,
    example: 'zh-CN',
    description:
      "the language of the user's pages and mails; null: not chosen (pages follow the " +
      "browser's Accept-Language, mails DEFAULT_LOCALE)",
  });

const EmailVerifiedProperty = () =>
  ApiProperty({
    description:
      'the bound address was proven by its owner (or set by an admin who vouched for it); ' +
      'reset links go only to a verified address',
  });

const PendingEmailProperty = () =>
  ApiProperty({
    nullable: true,
    type: String,
    example: null,
    description:
      'an address waiting for its owner to open the confirmation link (not bound, not used yet)',
  });

/** A user as admins see it. Never holds a hash or a secret. */
export class UserDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'alice' }) username!: string;
  @ApiProperty({ nullable: true, type: String, example: 'alice@example.com' }) email!:
    string | null;
  @EmailVerifiedProperty() emailVerified!: boolean;
  @PendingEmailProperty() pendingEmail!: string | null;
  @ApiProperty({ type: [String], example: ['admin'] }) roles!: string[];
  @LocaleProperty() locale!: string | null;
  @ApiProperty() disabled!: boolean;
  @ApiProperty() twoFactorEnabled!: boolean;
  @ApiProperty({ description: 'the password was set by an admin and must be changed' })
  mustChangePassword!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ format: 'date-time' }) passwordChangedAt!: string;

  static from(u: UserView): UserDto {
    return {
      id: u.id,
      username: u.username,
      email: u.email,
      emailVerified: u.emailVerified,
      pendingEmail: u.pendingEmail,
      roles: u.roles,
      locale: u.locale,
      disabled: u.disabled,
      twoFactorEnabled: u.twoFactorEnabled,
      mustChangePassword: u.mustChangePassword,
      createdAt: u.createdAt.toISOString(),
      updatedAt: u.updatedAt.toISOString(),
      passwordChangedAt: u.passwordChangedAt.toISOString(),
    };
  }
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto] }) items!: UserDto[];
  @ApiProperty({ type: 'integer' }) total!: number;
  @ApiProperty({ type: 'integer' }) page!: number;
  @ApiProperty({ type: 'integer' }) pageSize!: number;
}

/** What the personal center shows of a user: a UserView, or the cached UserSnapshot. */
type ProfileSource = Pick<
  UserView,
  | 'id'
  | 'username'
  | 'email'
  | 'emailVerified'
  | 'pendingEmail'
  | 'roles'
  | 'locale'
  | 'twoFactorEnabled'
  | 'mustChangePassword'
  | 'createdAt'
  | 'passwordChangedAt'
>;

/** The personal center's view of the signed-in user. */
export class ProfileDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() username!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'the bound address: sign-in by email, reset links and mails use it',
  })
  email!: string | null;
  @EmailVerifiedProperty() emailVerified!: boolean;
  @PendingEmailProperty() pendingEmail!: string | null;
  @ApiProperty({ type: [String] }) roles!: string[];
  @LocaleProperty() locale!: string | null;
  @ApiProperty() twoFactorEnabled!: boolean;
  @ApiProperty() mustChangePassword!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) passwordChangedAt!: string;

  static from(u: ProfileSource): ProfileDto {
    return {
      id: u.id,
      username: u.username,
      email: u.email,
      emailVerified: u.emailVerified,
      pendingEmail: u.pendingEmail,
      roles: u.roles,
      locale: u.locale,
      twoFactorEnabled: u.twoFactorEnabled,
      mustChangePassword: u.mustChangePassword,
      createdAt: u.createdAt.toISOString(),
      passwordChangedAt: u.passwordChangedAt.toISOString(),
    };
  }
}
