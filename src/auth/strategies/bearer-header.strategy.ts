import { Strategy } from 'passport-strategy';

type Verify = (token: string, done: (error: unknown, user?: unknown) => void) => void;

/**
 * RFC 6750 bearer tokens from the Authorization header only. passport-http-bearer also reads
 * `access_token` from the query string and the body; tokens in URLs end up in logs, so we don't.
 */
export class BearerHeaderStrategy extends Strategy {
  constructor(private readonly verify: Verify) {
    super();
  }

  override authenticate(request: { headers: Record<string, string | string[] | undefined> }): void {
    const header = request.headers.authorization;
    const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(typeof header === 'string' ? header : '');
    if (!match) {
      this.fail('Bearer realm="portcullis"', 401);
      return;
    }
    this.verify(match[1], (error, user) => {
      if (error) {
        this.error(error instanceof Error ? error : new Error('bearer token verification failed'));
      } else if (!user) {
        this.fail('Bearer realm="portcullis", error="invalid_token"', 401);
      } else {
        this.success(user);
      }
    });
  }
}
