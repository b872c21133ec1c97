import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import Provider, {
  type Account,
  type ClientInstance,
  type InteractionDetails,
  type InteractionResults,
  interactionPolicy,
  type KoaContext,
} from 'oidc-provider';
import { AuthService } from '../auth/auth.service.js';
import { SigningKeys } from '../auth/signing-keys.service.js';
import { SecretBox } from '../common/crypto/secret-box.js';
import type { Settings } from '../config/settings.js';
import { I18n } from '../i18n/i18n.service.js';
import type { Locale } from '../i18n/locales.js';
import { UsersService } from '../users/users.service.js';
import { OidcClients, secretMatches } from './oidc-clients.service.js';
import {
  browserOf,
  formActionPolicy,
  OIDC_ROUTES,
  OIDC_SCOPES,
  type ProviderRequest,
  type ViewRenderer,
} from './oidc-http.js';
import { OidcStore } from './oidc-store.service.js';

/**
 * The OpenID Provider (oidc-provider, certified), configured on Portcullis's own parts: our
 * database (OidcStore), our users, our signing keys (ID tokens are signed with the active key
 * and the JWKS is ours), our hosted pages for every interaction, and our sessions: a grant lives
 * only as long as the Portcullis session it was given in.
 *
 * The provider takes its keys at construction, so a key rotation (here or on another instance)
 * builds a new provider; state lives in the database, so requests simply move to the new one.
 *
 * Over 300 lines on purpose: most of it is the one configuration object oidc-provider takes
 * (`configuration()`), whose callbacks (accounts, grants, logout, the pages it renders) close over
 * this service; kept together, every policy the provider applies is read in one place.
 */
/** The raw request of a provider route, with the language its pages speak (see oidc.setup.ts). */
export interface PageLanguageCarrier {
  pageLanguage?: { locale: Locale; languages: unknown[] };
}

@Injectable()
export class OidcProviderService implements OnModuleInit {
  private readonly logger = new Logger('OidcProvider');
  private readonly issuer: string;
  private readonly settings: Settings;
  private readonly defaultLocale: Locale;
  private current!: Provider;
  private handler!: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  private render: ViewRenderer = () => Promise.reject(new Error('views are not attached yet'));

  constructor(
    config: ConfigService<Settings, true>,
    private readonly keys: SigningKeys,
    private readonly store: OidcStore,
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly box: SecretBox,
    private readonly clients: OidcClients,
    private readonly i18n: I18n,
  ) {
    this.settings = {
      http: config.get('http', { infer: true }),
      tokens: config.get('tokens', { infer: true }),
    } as Settings;
    this.issuer = this.settings.http.publicUrl;
    this.defaultLocale = config.get('i18n', { infer: true }).defaultLocale;
  }

  onModuleInit(): void {
    this.rebuild();
    this.keys.onChange(() => {
      this.rebuild();
      this.logger.log(`ID tokens are signed with the key ${this.keys.current.kid}`);
    });
  }

  /** The provider in use now (rebuilt when the signing keys change). */
  get provider(): Provider {
    return this.current;
  }

  useViews(render: ViewRenderer): void {
    this.render = render;
  }

  /** Serves one request with the provider (the Koa app's callback). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.handler(req, res);
  }

  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails> {
    return this.current.interactionDetails(req, res);
  }

  /** Records the outcome of an interaction; answers where the browser goes next. */
  interactionResult(
    req: IncomingMessage,
    res: ServerResponse,
    result: InteractionResults,
    merge = true,
  ): Promise<string> {
    return this.current.interactionResult(req, res, result, { mergeWithLastSubmission: merge });
  }

  private rebuild(): void {
    const provider = new Provider(this.issuer, this.configuration());
    // The registered "secret" is the SHA-256 of the real one (shown once, never stored).
    provider.Client.prototype.compareClientSecret = function (this: ClientInstance, actual) {
      return Promise.resolve(secretMatches(this.clientSecret, actual));
    };
    // Links are built from PUBLIC_URL alone: the forwarder sets X-Forwarded-Proto/Host from it.
    provider.proxy = true;
    provider.use((ctx, next) => this.afterLogout(ctx, next));
    provider.on('server_error', (...args: unknown[]) => {
      const error = args[1];
      this.logger.error(
        `OpenID Provider error: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    this.current = provider;
    this.handler = provider.callback();
  }

  /**
   * RP-initiated logout, confirmed by the user, also ends the Portcullis session of this browser
   * (so every token issued in it), when it is the one the provider signed out.
   */
  private async afterLogout(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
    await next();
    const oidc = ctx.oidc as KoaContext['oidc'] | undefined;
    if (
      oidc?.route !== 'end_session_confirm' ||
      ctx.status !== 303 ||
      !oidc.params?.logout ||
      !oidc.session?.accountId
    ) {
      return;
    }
    const browser = browserOf(ctx.req);
    if (browser && browser.userId === oidc.session.accountId) {
      await this.auth.logout(browser.refreshToken, (ctx.req as ProviderRequest).clientIp ?? ctx.ip);
      await this.store.endSessions([browser.sessionId]);
    }
  }

  private async findAccount(_ctx: KoaContext, sub: string): Promise<Account | undefined> {
    const user = await this.users.findById(sub);
    if (!user || user.disabled) {
      return undefined;
    }
    return {
      accountId: user.id,
      claims: () => ({
        sub: user.id,
        preferred_username: user.username,
        // The bound address (a pending change is not it), and whether its owner proved it.
        ...(user.email ? { email: user.email, email_verified: user.emailVerified } : {}),
      }),
    };
  }

  /**
   * Reuses a grant only when it was given in the Portcullis session the browser is in now.
   * Otherwise, when the user need not be asked (a first-party client, or a consent already given
   * for these scopes), grants at once: a silent sign-in (prompt=none) works after a new sign-in.
   */
  private async loadExistingGrant(ctx: KoaContext) {
    const browser = browserOf(ctx.req);
    const accountId = ctx.oidc.account?.accountId;
    const clientId = ctx.oidc.client?.clientId;
    if (!browser || !clientId || browser.userId !== accountId) {
      return undefined;
    }
    const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(clientId);
    if (grantId && (await this.store.grantSession(grantId)) === browser.sessionId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const requested = [...ctx.oidc.requestParamOIDCScopes];
    const client = await this.clients.find(clientId);
    const consented = client?.firstParty
      ? null
      : await this.store.consentedScopes(clientId, accountId);
    if (!client || (consented && !requested.every((scope) => consented.has(scope)))) {
      return undefined;
    }
    const grant = new ctx.oidc.provider.Grant({ accountId, clientId });
    grant.addOIDCScope(requested.join(' '));
    await this.store.linkGrant(await grant.save(), browser.sessionId);
    return grant;
  }

  private configuration(): Record<string, unknown> {
    const { tokens } = this.settings;
    const policy = interactionPolicy.base();
    // Signed in to the provider is not enough: the Portcullis session must still be live
    // (sign-out, disable, password change end it) and belong to the same user.
    policy.get('login')!.checks.add(
      new interactionPolicy.Check(
        'portcullis_session',
        'the Portcullis session has ended',
        'login_required',
        (ctx) => {
          const accountId = ctx.oidc.session?.accountId;
          if (!accountId) {
            return interactionPolicy.Check.NO_NEED_TO_PROMPT;
          }
          return browserOf(ctx.req)?.userId === accountId
            ? interactionPolicy.Check.NO_NEED_TO_PROMPT
            : interactionPolicy.Check.REQUEST_PROMPT;
        },
      ),
    );
    const cookieKey = this.box.deriveKey('oidc-provider-cookies').toString('base64url');
    return {
      adapter: this.store.adapterClass(),
      findAccount: (ctx: KoaContext, sub: string) => this.findAccount(ctx, sub),
      loadExistingGrant: (ctx: KoaContext) => this.loadExistingGrant(ctx),
      jwks: this.keys.privateJwks(),
      routes: OIDC_ROUTES,
      scopes: OIDC_SCOPES,
      claims: {
        // Claims of no scope, given when asked for (the claims parameter is off).
        acr: null,
        sid: null,
        iss: null,
        // With every ID token: who, when and how (amr: ["pwd"] or ["pwd", "otp"]) they signed in.
        openid: ['sub', 'auth_time', 'amr'],
        profile: ['preferred_username'],
        email: ['email', 'email_verified'],
      },
      // The ID token carries the claims of the granted scopes, not only userinfo.
      conformIdTokenClaims: false,
      responseTypes: ['code'],
      clientAuthMethods: ['client_secret_basic', 'none'],
      enabledJWA: {
        idTokenSigningAlgValues: ['ES256'],
        userinfoSigningAlgValues: ['ES256'],
        introspectionSigningAlgValues: ['ES256'],
        authorizationSigningAlgValues: ['ES256'],
      },
      pkce: {
        required: (_ctx: KoaContext, client: { clientAuthMethod: string }) =>
          client.clientAuthMethod === 'none',
      },
      allowOmittingSingleRegisteredRedirectUri: false,
      rotateRefreshToken: true,
      cookies: {
        names: {
          session: 'portcullis_oidc',
          interaction: 'portcullis_oidc_interaction',
          resume: 'portcullis_oidc_resume',
        },
        long: { signed: true, httpOnly: true, sameSite: 'lax' },
        short: { signed: true, httpOnly: true, sameSite: 'lax' },
        keys: [cookieKey],
      },
      ttl: {
        AccessToken: tokens.accessTtl,
        AuthorizationCode: 60,
        // As long as an access token: the JWKS keeps a retired key that long.
        IdToken: tokens.accessTtl,
        RefreshToken: tokens.refreshTtl,
        Interaction: 3600,
        Session: tokens.sessionMaxLifetime,
        Grant: tokens.sessionMaxLifetime,
      },
      interactions: {
        policy,
        url: (_ctx: KoaContext, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
      },
      features: {
        devInteractions: { enabled: false },
        revocation: {
          enabled: true,
          // RFC 7009: a client revokes only its own tokens; another's are silently left alone.
          allowedPolicy: (_ctx: KoaContext, client: ClientInstance, token: { clientId: string }) =>
            token.clientId === client.clientId,
        },
        userinfo: { enabled: true },
        introspection: { enabled: false },
        registration: { enabled: false },
        clientCredentials: { enabled: false },
        pushedAuthorizationRequests: { enabled: false },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: (ctx: KoaContext, form: string) => this.logoutPage(ctx, form),
          postLogoutSuccessSource: (ctx: KoaContext) => this.signedOutPage(ctx),
        },
      },
      renderError: (ctx: KoaContext, out: Record<string, string>) => this.errorPage(ctx, out),
    };
  }

  private async page(
    ctx: KoaContext,
    view: string,
    data: Record<string, unknown>,
    formTargets: (string | undefined)[] = [],
  ): Promise<void> {
    ctx.type = 'html';
    ctx.set('content-security-policy', formActionPolicy(formTargets));
    ctx.set('referrer-policy', 'no-referrer');
    ctx.set('x-frame-options', 'DENY');
    ctx.set('x-content-type-options', 'nosniff');
    const language = (ctx.req as PageLanguageCarrier).pageLanguage ?? {
      locale: this.defaultLocale,
      languages: [],
    };
    // `data` names catalogue keys (titleKey, headingKey): said here in the page's language.
    const { titleKey, headingKey, ...rest } = data as Record<string, unknown> & {
      titleKey: string;
      headingKey?: string;
    };
    ctx.body = await this.render(view, {
      ...language,
      productName: 'Portcullis',
      csrf: '',
      user: null,
      fieldErrors: {},
      errors: null,
      ...rest,
      title: this.i18n.t(language.locale, titleKey),
      ...(headingKey ? { heading: this.i18n.t(language.locale, headingKey) } : {}),
    });
  }

  private logoutPage(ctx: KoaContext, form: string): Promise<void> {
    const client = ctx.oidc.client;
    const back = ctx.oidc.params?.post_logout_redirect_uri;
    return this.page(
      ctx,
      'oidc-logout.hbs',
      { titleKey: 'pages.oidc-logout.title', form, clientName: client?.clientName ?? null },
      [typeof back === 'string' ? back : undefined],
    );
  }

  private signedOutPage(ctx: KoaContext): Promise<void> {
    return this.page(ctx, 'oidc-signed-out.hbs', { titleKey: 'pages.oidc-signed-out.title' });
  }

  private errorPage(ctx: KoaContext, out: Record<string, string>): Promise<void> {
    return this.page(ctx, 'error.hbs', {
      titleKey: 'pages.error.invalidAuthorizationTitle',
      headingKey: 'pages.error.invalidAuthorization',
      // error and error_description are the provider's own fixed texts, never secrets.
      message: `${out.error ?? 'invalid_request'}: ${out.error_description ?? ''}`,
    });
  }
}
