import { SetMetadata } from '@nestjs/common';

export const REQUIRED_ROLES = 'portcullis:roles';

/** Requires the caller to hold every listed role; others get 403 FORBIDDEN. */
export const Roles = (...roles: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(REQUIRED_ROLES, roles);
