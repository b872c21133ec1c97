import { Injectable } from '@nestjs/common';
import { BearerHeaderStrategy } from './bearer-header.strategy.js';
import type { Principal } from '../../common/decorators/current-user.decorator.js';
import { SessionsService } from '../../sessions/sessions.service.js';
import { UsersService } from '../../users/users.service.js';
import { TokenService } from '../token.service.js';

/**
 * Bearer access tokens: a valid ES256 signature is not enough; the session must still be live
 * and the user enabled, so logout, password changes and disabling take effect at once.
 *
 * The passport strategy of this app's AccessTokenGuard, which registers it with its own passport
 * (not passport's process-wide one): see there.
 */
@Injectable()
export class AccessTokenStrategy extends BearerHeaderStrategy<Principal> {
  constructor(
    private readonly tokens: TokenService,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
  ) {
    super();
  }

  protected async validate(token: string): Promise<Principal | false> {
    const claims = this.tokens.verifyAccessToken(token);
    if (!claims || !(await this.sessions.isActive(claims.sid, claims.sub))) {
      return false;
    }
    const state = await this.users.authState(claims.sub);
    if (!state || state.disabled) {
      return false;
    }
    return {
      userId: claims.sub,
      sessionId: claims.sid,
      username: state.username,
      roles: state.roles,
      mustChangePassword: state.mustChangePassword,
      amr: claims.amr,
    };
  }
}
