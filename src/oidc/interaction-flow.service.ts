import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InteractionDetails } from 'oidc-provider';
import { AuditService } from '../audit/audit.service.js';
import type { PageUser } from '../pages/page-session.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { UsersService } from '../users/users.service.js';
import type { Interaction } from './interaction.guard.js';
import { OIDC_ROUTES } from './oidc-http.js';
import { OidcProviderService } from './oidc-provider.service.js';
import { OidcStore } from './oidc-store.service.js';

/** What each scope lets the application see, as the consent page says it. */
export const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are (your user id)',
  profile: 'Your username',
  email: 'Your email address',
  offline_access: 'Stay connected while you are away (until you sign out)',
};

/** Reasons the application gave for asking for the password again, whatever the browser's session. */
const FORCED_LOGIN = new Set(['login_prompt', 'max_age']);

/** Where the browser goes next: somewhere else, or one of the sign-in's own pages. */
export type Next = { redirect: string } | { page: 'login' | 'consent' };

type InteractionResult = Parameters<OidcProviderService['interactionResult']>[2];

/**
 * The decisions of an application's sign-in (OpenID Connect), once the shared sign-in steps
 * (SignInService) are done: which page comes next, the grant a user allows, and the outcome
 * told to the provider, which then sends the browser back to the application.
 */
@Injectable()
export class InteractionFlow {
  constructor(
    private readonly oidc: OidcProviderService,
    private readonly store: OidcStore,
    private readonly users: UsersService,
    private readonly userSessions: SessionsService,
    private readonly audit: AuditService,
  ) {}

  /** The sign-in's first page: the password, or (signed in already) the application's consent. */
  async arrive(
    interaction: Interaction,
    user: PageUser | null,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<Next> {
    const { details, client } = interaction;
    if (details.prompt.name === 'login') {
      const forced = details.prompt.reasons.some((r) => FORCED_LOGIN.has(r));
      return user && !forced ? this.signedIn(interaction, user, request, reply) : { page: 'login' };
    }
    if (!user || user.userId !== details.session?.accountId) {
      // The browser's session ended or changed since the sign-in: start again.
      return this.finish(request, reply, {
        error: 'login_required',
        error_description: 'the sign-in ended before the application was allowed',
      });
    }
    if (user.mustChangePassword) {
      return { redirect: `${interaction.path}/password` };
    }
    const remembered = await this.store.consentedScopes(client.clientId, user.userId);
    if (client.firstParty || requestedScopes(details).every((s) => remembered.has(s))) {
      return this.allow(interaction, user, request, reply, false);
    }
    return { page: 'consent' };
  }

  /** The user is signed in on the pages: a temporary password first, then the provider. */
  async signedIn(
    interaction: Interaction,
    user: PageUser,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<Next> {
    const state = await this.users.authState(user.userId);
    if (state?.mustChangePassword) {
      return { redirect: `${interaction.path}/password` };
    }
    const session = await this.userSessions.describe(user.sessionId);
    if (!session) {
      return { page: 'login' };
    }
    const login = {
      accountId: user.userId,
      amr: session.amr,
      ts: Math.floor(session.createdAt.getTime() / 1000),
      remember: true,
    };
    return this.finish(request, reply, { login }, false);
  }

  /** The user allows the application (`asked`: on the consent page): a grant tied to this session. */
  async allow(
    interaction: Interaction,
    user: PageUser,
    request: FastifyRequest,
    reply: FastifyReply,
    asked = true,
  ): Promise<Next> {
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
    return this.finish(request, reply, { consent: { grantId } });
  }

  /** The user said no to the application. */
  deny(request: FastifyRequest, reply: FastifyReply): Promise<Next> {
    return this.finish(request, reply, {
      error: 'access_denied',
      error_description: 'the user did not allow the application',
    });
  }

  /**
   * The authorization request itself, so that it can start afresh even after this sign-in has
   * expired (after a password reset); not with "ask for the password again": the reset proved it.
   */
  authorizeAgain(interaction: Interaction): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(interaction.details.params)) {
      if (typeof value === 'string' && key !== 'prompt' && key !== 'max_age') {
        params.set(key, value);
      }
    }
    return `${OIDC_ROUTES.authorization}?${params.toString()}`;
  }

  private async finish(
    request: FastifyRequest,
    reply: FastifyReply,
    result: InteractionResult,
    merge = true,
  ): Promise<Next> {
    return { redirect: await this.oidc.interactionResult(request.raw, reply.raw, result, merge) };
  }
}

/** The scopes the application asked for that Portcullis knows. */
export function requestedScopes(details: InteractionDetails): string[] {
  const asked = typeof details.params.scope === 'string' ? details.params.scope.split(' ') : [];
  return [...new Set(asked.filter((s) => s in SCOPE_TEXT))];
}
