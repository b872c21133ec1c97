import { Controller, Get, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { InteractionDetails } from 'oidc-provider';
import { AuditService } from '../audit/audit.service.js';
import { AuthService } from '../auth/auth.service.js';
import { LoginDto, LoginTwoFactorDto } from '../auth/dto/auth.dto.js';
import { CHALLENGE_TTL_SECONDS, TokenService } from '../auth/token.service.js';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { Public } from '../common/decorators/public.decorator.js';
import { AppError } from '../common/errors/app-error.js';
import { checkedSession, field, type FormRequest } from '../pages/page-base.js';
import { pageErrors, validateForm } from '../pages/page-errors.js';
import { type PageData, PageRenderer } from '../pages/page-renderer.js';
import { type PageSession, type PageUser, PageSessions } from '../pages/page-session.service.js';
import { statusOf } from '../pages/page-errors.js';
import { PagesExceptionFilter } from '../pages/pages-exception.filter.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { ChangePasswordDto } from '../users/dto/me.dto.js';
import { UsersService } from '../users/users.service.js';
import { type ClientView, OidcClients } from './oidc-clients.service.js';
import { formActionPolicy, OIDC_ROUTES } from './oidc-http.js';
import { OidcProviderService } from './oidc-provider.service.js';
import { OidcStore } from './oidc-store.service.js';

const LABELS = {
  username: 'The username or email',
  password: 'The password',
  code: 'The code',
  currentPassword: 'The current password',
  newPassword: 'The new password',
};

/** What each scope lets the application see, as the consent page says it. */
const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are (your user id)',
  profile: 'Your username',
  email: 'Your email address',
  offline_access: 'Stay connected while you are away (until you sign out)',
};

/** Reasons the application gave for asking for the password again, whatever the browser's session. */
const FORCED_LOGIN = new Set(['login_prompt', 'max_age']);

/** How long "Forgot your password?" remembers the application's sign-in: a reset's whole span. */
const RETURN_TTL_SECONDS = 3600;

interface Interaction {
  details: InteractionDetails;
  client: ClientView;
  session: PageSession;
  path: string;
}

/**
 * An application's sign-in (OpenID Connect) on the hosted pages: the same forms, services,
 * CSRF, CSP and throttles as /login, plus the consent page. Every step ends by telling the
 * provider the outcome; it then sends the browser back to the application.
 */
@Public()
@ApiExcludeController()
@UseFilters(PagesExceptionFilter)
@Controller('interaction/:uid')
export class InteractionPagesController {
  constructor(
    private readonly oidc: OidcProviderService,
    private readonly clients: OidcClients,
    private readonly store: OidcStore,
    private readonly sessions: PageSessions,
    private readonly renderer: PageRenderer,
    private readonly auth: AuthService,
    private readonly tokens: TokenService,
    private readonly users: UsersService,
    private readonly userSessions: SessionsService,
    private readonly audit: AuditService,
  ) {}

  @Get()
  async show(
    @Param('uid') uid: string,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const interaction = await this.load(uid, request, reply);
    if (!interaction) {
      return reply;
    }
    const { details, session } = interaction;
    if (details.prompt.name === 'login') {
      const forced = details.prompt.reasons.some((r) => FORCED_LOGIN.has(r));
      if (session.user && !forced) {
        return this.signedIn(interaction, request, reply, session.user);
      }
      return this.renderLogin(interaction, reply, {});
    }
    if (!session.user || session.user.userId !== details.session?.accountId) {
      // The browser's session ended or changed since the sign-in: start again.
      return this.finish(interaction, request, reply, {
        error: 'login_required',
        error_description: 'the sign-in ended before the application was allowed',
      });
    }
    if (session.user.mustChangePassword) {
      return this.renderer.redirect(reply, `${interaction.path}/password`);
    }
    const requested = requestedScopes(details);
    const remembered = await this.store.consentedScopes(
      interaction.client.clientId,
      session.user.userId,
    );
    if (interaction.client.firstParty || requested.every((s) => remembered.has(s))) {
      return this.consent(interaction, request, reply, session.user, false);
    }
    return this.renderConsent(interaction, reply);
  }

  @Post('login')
  async login(
    @Param('uid') uid: string,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const interaction = await this.load(uid, request, reply, true);
    if (!interaction) {
      return reply;
    }
    try {
      const input = await validateForm(LoginDto, request.body, ['username', 'password']);
      const result = await this.auth.login(
        input.username,
        input.password,
        ip,
        this.sessions.deviceToken(request),
      );
      if ('twoFactorRequired' in result) {
        this.sessions.setChallenge(
          reply,
          result.challengeToken,
          CHALLENGE_TTL_SECONDS,
          interaction.path,
        );
        return this.renderer.redirect(reply, `${interaction.path}/two-factor`);
      }
      this.sessions.setDeviceToken(reply, result.deviceToken);
      const user = this.startPageSession(reply, result);
      return this.signedIn(interaction, request, reply, user);
    } catch (error) {
      return this.renderLogin(
        interaction,
        reply,
        { username: field(request, 'username'), errors: pageErrors(error, {}, LABELS) },
        statusOf(error),
      );
    }
  }

  @Get('two-factor')
  async twoFactorForm(
    @Param('uid') uid: string,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const interaction = await this.load(uid, request, reply);
    if (!interaction) {
      return reply;
    }
    if (!this.sessions.challenge(request)) {
      return this.renderer.redirect(reply, interaction.path);
    }
    return this.renderTwoFactor(interaction, reply, {
      recovery: (request.query as Record<string, unknown>).recovery === '1',
    });
  }

  @Post('two-factor')
  async twoFactor(
    @Param('uid') uid: string,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const interaction = await this.load(uid, request, reply, true);
    if (!interaction) {
      return reply;
    }
    const challengeToken = this.sessions.challenge(request);
    if (!challengeToken) {
      return this.renderer.redirect(reply, interaction.path);
    }
    const recovery = field(request, 'recovery') === '1';
    try {
      const input = await validateForm(LoginTwoFactorDto, { ...request.body, challengeToken }, [
        'challengeToken',
        'code',
      ]);
      const pair = await this.auth.loginTwoFactor(
        challengeToken,
        input.code,
        ip,
        this.sessions.deviceToken(request),
      );
      this.sessions.clearChallenge(reply, interaction.path);
      this.sessions.setDeviceToken(reply, pair.deviceToken);
      const user = this.startPageSession(reply, pair);
      return this.signedIn(interaction, request, reply, user);
    } catch (error) {
      const errors = pageErrors(error, { INVALID_TOTP_CODE: 'code' }, LABELS);
      if (error instanceof AppError && error.code === 'CHALLENGE_INVALID') {
        this.sessions.clearChallenge(reply, interaction.path);
        return this.renderLogin(interaction, reply, { errors }, 401);
      }
      return this.renderTwoFactor(interaction, reply, { recovery, errors }, statusOf(error));
    }
  }

  @Get('password')
  async passwordForm(
    @Param('uid') uid: string,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const interaction = await this.load(uid, request, reply);
    if (!interaction) {
      return reply;
    }
    if (!interaction.session.user) {
      return this.renderer.redirect(reply, interaction.path);
    }
    return this.renderPassword(interaction, reply, {});
  }

  /** The forced change of a temporary password, inside the application's sign-in. */
  @Post('password')
  async changePassword(
    @Param('uid') uid: string,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const interaction = await this.load(uid, request, reply, true);
    if (!interaction) {
      return reply;
    }
    const user = interaction.session.user;
    if (!user) {
      return this.renderer.redirect(reply, interaction.path);
    }
    try {
      const input = await validateForm(ChangePasswordDto, request.body, [
        'currentPassword',
        'newPassword',
      ]);
      await this.users.changeOwnPassword(
        user.userId,
        user.sessionId,
        input.currentPassword,
        input.newPassword,
        ip,
      );
      return this.signedIn(interaction, request, reply, { ...user, mustChangePassword: false });
    } catch (error) {
      const errors = pageErrors(error, { INVALID_CREDENTIALS: 'currentPassword' }, LABELS);
      return this.renderPassword(interaction, reply, { errors }, statusOf(error));
    }
  }

  @Post('consent')
  async approve(
    @Param('uid') uid: string,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const interaction = await this.load(uid, request, reply, true);
    if (!interaction) {
      return reply;
    }
    const user = interaction.session.user;
    if (
      interaction.details.prompt.name !== 'consent' ||
      !user ||
      user.userId !== interaction.details.session?.accountId ||
      user.mustChangePassword
    ) {
      return this.renderer.redirect(reply, interaction.path);
    }
    return this.consent(interaction, request, reply, user, true);
  }

  @Post('abort')
  async abort(
    @Param('uid') uid: string,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const interaction = await this.load(uid, request, reply, true);
    if (!interaction) {
      return reply;
    }
    return this.finish(interaction, request, reply, {
      error: 'access_denied',
      error_description: 'the user did not allow the application',
    });
  }

  /** "Forgot your password?": the reset flow, then back to this application's sign-in. */
  @Get('forgot')
  async forgot(
    @Param('uid') uid: string,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const interaction = await this.load(uid, request, reply);
    if (!interaction) {
      return reply;
    }
    // The authorization request itself, so that it can start afresh even after this sign-in
    // has expired; not with "ask for the password again": the reset just proved it.
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(interaction.details.params)) {
      if (typeof value === 'string' && key !== 'prompt' && key !== 'max_age') {
        params.set(key, value);
      }
    }
    this.sessions.setReturnTo(
      reply,
      `${OIDC_ROUTES.authorization}?${params.toString()}`,
      RETURN_TTL_SECONDS,
    );
    return this.renderer.redirect(reply, '/forgot-password');
  }

  /**
   * The interaction of this browser, its client and page session; answers itself (and returns
   * null) when the sign-in has expired or, for a form, when the CSRF token is wrong.
   */
  private async load(
    uid: string,
    request: FormRequest,
    reply: FastifyReply,
    form = false,
  ): Promise<Interaction | null> {
    const session = form
      ? await checkedSession(this.sessions, this.renderer, request, reply)
      : await this.sessions.load(request, reply);
    if (!session) {
      return null;
    }
    let details: InteractionDetails | undefined;
    try {
      details = await this.oidc.interactionDetails(request.raw, reply.raw);
    } catch (error) {
      // No interaction cookie, or its interaction expired or was finished: anything else
      // (the database away) is not the user's doing.
      if (!(error instanceof Error && error.name === 'SessionNotFound')) {
        throw error;
      }
    }
    const client = details ? await this.clients.find(details.params.client_id) : null;
    if (!details || details.uid !== uid || !client) {
      await this.renderer.send(
        reply,
        session,
        'error',
        {
          title: 'Sign-in expired',
          heading: 'This sign-in has expired',
          message:
            'It was open too long or was already finished. Go back to the application and sign in again.',
        },
        400,
      );
      return null;
    }
    // The forms lead back to the application (through the provider's redirect): allow its origin.
    void reply.header(
      'content-security-policy',
      formActionPolicy([details.params.redirect_uri, ...client.redirectUris]),
    );
    return { details, client, session, path: `/interaction/${uid}` };
  }

  /** Puts the browser in the session the sign-in started; the user as the pages know them. */
  private startPageSession(
    reply: FastifyReply,
    pair: { accessToken: string; refreshToken: string },
  ): PageUser {
    const claims = this.tokens.verifyAccessToken(pair.accessToken);
    if (!claims) {
      throw new Error('a freshly issued access token did not verify');
    }
    this.sessions.signIn(reply, {
      sessionId: claims.sid,
      userId: claims.sub,
      refreshToken: pair.refreshToken,
    });
    return {
      userId: claims.sub,
      sessionId: claims.sid,
      refreshToken: pair.refreshToken,
      username: claims.username,
      roles: claims.roles,
      disabled: false,
      mustChangePassword: false,
    };
  }

  /** The user is signed in on the pages: a temporary password first, then the provider. */
  private async signedIn(
    interaction: Interaction,
    request: FormRequest,
    reply: FastifyReply,
    user: PageUser,
  ): Promise<FastifyReply> {
    const state = await this.users.authState(user.userId);
    if (state?.mustChangePassword) {
      return this.renderer.redirect(reply, `${interaction.path}/password`);
    }
    const session = await this.userSessions.describe(user.sessionId);
    if (!session) {
      return this.renderLogin(interaction, reply, {});
    }
    return this.finish(
      interaction,
      request,
      reply,
      {
        login: {
          accountId: user.userId,
          amr: session.amr,
          ts: Math.floor(session.createdAt.getTime() / 1000),
          remember: true,
        },
      },
      false,
    );
  }

  /** The user allows the application (or needs not be asked): a grant tied to this session. */
  private async consent(
    interaction: Interaction,
    request: FormRequest,
    reply: FastifyReply,
    user: PageUser,
    asked: boolean,
  ): Promise<FastifyReply> {
    const { details, client } = interaction;
    const Grant = this.oidc.provider.Grant;
    let grant = details.grantId ? await Grant.find(details.grantId) : undefined;
    if (grant && (await this.store.grantSession(grant.jti)) !== user.sessionId) {
      grant = undefined;
    }
    grant ??= new Grant({ accountId: user.userId, clientId: client.clientId });
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = details.prompt.details;
    const scopes = missingOIDCScope ?? [];
    if (scopes.length > 0) {
      grant.addOIDCScope(scopes.join(' '));
    }
    if (missingOIDCClaims) {
      grant.addOIDCClaims(missingOIDCClaims);
    }
    for (const [resource, resourceScopes] of Object.entries(missingResourceScopes ?? {})) {
      grant.addResourceScope(resource, resourceScopes.join(' '));
    }
    const grantId = await grant.save();
    await this.store.linkGrant(grantId, user.sessionId);
    if (asked) {
      const granted = requestedScopes(details);
      await this.store.rememberConsent(client.clientId, user.userId, granted);
      await this.audit.record({
        type: 'oidc.consent_granted',
        actorId: user.userId,
        subjectId: user.userId,
        clientIp: request.ip,
        details: { clientId: client.clientId, scopes: granted },
      });
    }
    return this.finish(interaction, request, reply, { consent: { grantId } });
  }

  private async finish(
    _interaction: Interaction,
    request: FormRequest,
    reply: FastifyReply,
    result: Parameters<OidcProviderService['interactionResult']>[2],
    merge = true,
  ): Promise<FastifyReply> {
    const returnTo = await this.oidc.interactionResult(request.raw, reply.raw, result, merge);
    return this.renderer.redirect(reply, returnTo);
  }

  private renderLogin(
    interaction: Interaction,
    reply: FastifyReply,
    data: Partial<PageData>,
    status = 200,
  ): Promise<FastifyReply> {
    const hint = interaction.details.params.login_hint;
    return this.renderer.send(
      reply,
      interaction.session,
      'oidc-login',
      {
        username: typeof hint === 'string' ? hint : '',
        ...data,
        title: 'Sign in',
        clientName: interaction.client.name,
        action: interaction.path,
      },
      status,
    );
  }

  private renderTwoFactor(
    interaction: Interaction,
    reply: FastifyReply,
    data: Partial<PageData>,
    status = 200,
  ): Promise<FastifyReply> {
    return this.renderer.send(
      reply,
      interaction.session,
      'oidc-two-factor',
      {
        ...data,
        title: 'Two-step verification',
        clientName: interaction.client.name,
        action: interaction.path,
      },
      status,
    );
  }

  private renderPassword(
    interaction: Interaction,
    reply: FastifyReply,
    data: Partial<PageData>,
    status = 200,
  ): Promise<FastifyReply> {
    return this.renderer.send(
      reply,
      interaction.session,
      'oidc-password',
      {
        ...data,
        title: 'Change your password',
        clientName: interaction.client.name,
        action: interaction.path,
      },
      status,
    );
  }

  private renderConsent(interaction: Interaction, reply: FastifyReply): Promise<FastifyReply> {
    const scopes = requestedScopes(interaction.details).map((scope) => ({
      scope,
      text: SCOPE_TEXT[scope] ?? scope,
    }));
    return this.renderer.send(reply, interaction.session, 'oidc-consent', {
      title: `Allow ${interaction.client.name}?`,
      clientName: interaction.client.name,
      scopes,
      action: interaction.path,
    });
  }
}

/** The scopes the application asked for that Portcullis knows. */
function requestedScopes(details: InteractionDetails): string[] {
  const asked = typeof details.params.scope === 'string' ? details.params.scope.split(' ') : [];
  return [...new Set(asked.filter((s) => s in SCOPE_TEXT))];
}
