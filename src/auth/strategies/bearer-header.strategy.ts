import { Strategy } from 'passport-strategy';

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 token68 syntax), or undefined.
 * The scheme name is case-insensitive (RFC 7235 §2.1): `bearer` and `BEARER` work too.
 */
export function bearerToken(header: unknown): string | undefined {
  return /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(typeof header === 'string' ? header : '')?.[1];
}

/**
 * RFC 6750 bearer tokens from the Authorization header only. passport-http-bearer also reads
 * `access_token` from the query string and the body; tokens in URLs end up in logs, so we don't.
 *
 * `validate` says who a token belongs to: a principal, or false for a token that is not (or no
 * longer) good. An error it throws is passed on as it is: an unreachable database must stay
 * recognisable (a 503, not a 401).
 */
export abstract class BearerHeaderStrategy<P> extends Strategy {
  protected abstract validate(token: string): Promise<P | false>;

  override authenticate(request: { headers: Record<string, string | string[] | undefined> }): void {
    const token = bearerToken(request.headers.authorization);
    if (!token) {
      this.fail('Bearer realm="portcullis"', 401);
      return;
    }
    this.validate(token).then(
      (user) => {
        if (user) {
          this.success(user);
        } else {
          this.fail('Bearer realm="portcullis", error="invalid_token"', 401);
        }
      },
      (error: unknown) => {
        this.error(
          typeof error === 'object' && error !== null
            ? (error as Error)
            : new Error('bearer token verification failed'),
        );
      },
    );
  }
}
