import { SetMetadata } from '@nestjs/common';

export const ALLOWS_CLIENT_CREDENTIALS = 'portcullis:client-credentials';

/**
 * The route also accepts an OpenID Connect client's own credentials (HTTP Basic) instead of an
 * access token; the route's own guard checks them. Without a Basic header, the usual rules hold.
 */
export const AllowClientCredentials = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ALLOWS_CLIENT_CREDENTIALS, true);

/** Whether an Authorization header uses the Basic scheme (case-insensitive). */
export function isBasicAuthorization(header: string | undefined): boolean {
  return typeof header === 'string' && /^basic\s/i.test(header);
}
