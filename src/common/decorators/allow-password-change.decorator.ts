import { SetMetadata } from '@nestjs/common';

export const ALLOWED_WITH_TEMPORARY_PASSWORD = 'portcullis:allowed-with-temporary-password';

/** Marks the few routes a user with a temporary password may still call (/me, /me/password). */
export const AllowedWithTemporaryPassword = (): MethodDecorator =>
  SetMetadata(ALLOWED_WITH_TEMPORARY_PASSWORD, true);
