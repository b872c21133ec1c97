import type { IncomingMessage } from 'node:http';

// What the OpenID Provider shares with the HTTP layer around it (oidc.setup.ts, the interaction
// pages): where its endpoints are, the browser it serves, and the pages' content security policy.

/** Where the provider's endpoints live; discovery is at the root, as the issuer is PUBLIC_URL. */
export const OIDC_PREFIX = '/oidc';
export const OIDC_ROUTES = {
  authorization: `${OIDC_PREFIX}/auth`,
  token: `${OIDC_PREFIX}/token`,
  userinfo: `${OIDC_PREFIX}/me`,
  jwks: `${OIDC_PREFIX}/jwks`,
  revocation: `${OIDC_PREFIX}/token/revocation`,
  end_session: `${OIDC_PREFIX}/session/end`,
  // Never enabled, but every route needs a path under the prefix.
  introspection: `${OIDC_PREFIX}/token/introspection`,
  registration: `${OIDC_PREFIX}/reg`,
  pushed_authorization_request: `${OIDC_PREFIX}/request`,
  code_verification: `${OIDC_PREFIX}/device`,
  device_authorization: `${OIDC_PREFIX}/device/auth`,
  backchannel_authentication: `${OIDC_PREFIX}/backchannel`,
  challenge: `${OIDC_PREFIX}/challenge`,
  credential: `${OIDC_PREFIX}/credential`,
};

export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

/** Who the browser is signed in as on the hosted pages, found before the provider runs. */
export interface PortcullisBrowser {
  userId: string;
  sessionId: string;
  refreshToken: string;
}

/** A request as the provider receives it, with what configureOidc found out before. */
export type ProviderRequest = IncomingMessage & {
  portcullis?: PortcullisBrowser;
  clientIp?: string;
};

export function browserOf(req: IncomingMessage): PortcullisBrowser | undefined {
  return (req as ProviderRequest).portcullis;
}

/** Renders one of templates/pages with the layout (Fastify's view engine), for provider pages. */
export type ViewRenderer = (view: string, data: Record<string, unknown>) => Promise<string>;

/** The origins a form may lead to: ours, and the application's that the answer goes back to. */
export function formActionPolicy(targets: (string | undefined)[]): string {
  const origins = new Set<string>(["'self'"]);
  for (const target of targets) {
    try {
      if (target) {
        origins.add(new URL(target).origin);
      }
    } catch {
      // not a URL: nothing to allow
    }
  }
  return [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self' data:",
    "script-src 'none'",
    `form-action ${[...origins].join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}
