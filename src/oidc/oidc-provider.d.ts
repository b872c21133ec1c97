/**
 * The part of oidc-provider 9 that Portcullis uses. The package ships JavaScript only; these
 * declarations follow its documentation (docs/README.md of the package) and source.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type AdapterPayload = Record<string, unknown> & {
    accountId?: string;
    grantId?: string;
    userCode?: string;
    uid?: string;
    consumed?: number;
    exp?: number;
  };

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export type AdapterConstructor = new (model: string) => Adapter;

  export interface OidcSession {
    uid: string;
    accountId?: string;
    authorizations?: Record<string, { grantId?: string; sid?: string }>;
    state?: Record<string, unknown>;
    grantIdFor(clientId: string): string | undefined;
  }

  export interface ClientInstance {
    clientId: string;
    clientName?: string;
    clientSecret?: string;
    redirectUris?: string[];
    postLogoutRedirectUris?: string[];
    [key: string]: unknown;
  }

  export interface GrantInstance {
    jti: string;
    accountId: string;
    clientId: string;
    openid?: { scope?: string; claims?: string[] };
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    getOIDCScope(): string;
    save(ttl?: number): Promise<string>;
  }

  export interface GrantClass {
    new (properties: { accountId: string; clientId: string }): GrantInstance;
    find(id: string, options?: { ignoreExpiration?: boolean }): Promise<GrantInstance | undefined>;
  }

  export interface KoaContext {
    req: IncomingMessage;
    res: ServerResponse;
    status: number;
    body: unknown;
    type: string;
    path: string;
    method: string;
    ip: string;
    set(field: string, value: string): void;
    get(field: string): string;
    oidc: OidcContext;
  }

  export interface OidcContext {
    route?: string;
    client?: ClientInstance;
    session?: OidcSession;
    params?: Record<string, unknown>;
    account?: { accountId: string };
    result?: { consent?: { grantId?: string } } & Record<string, unknown>;
    requestParamOIDCScopes: Set<string>;
    provider: Provider;
    entities: Record<string, unknown>;
  }

  export interface InteractionDetails {
    uid: string;
    prompt: {
      /** 'login' or 'consent' */
      name: string;
      reasons: string[];
      details: {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      } & Record<string, unknown>;
    };
    params: Record<string, unknown> & { client_id: string; redirect_uri?: string; scope?: string };
    session?: { accountId?: string; uid?: string };
    grantId?: string;
    returnTo: string;
    lastSubmission?: Record<string, unknown>;
    exp: number;
  }

  export interface InteractionResults {
    login?: { accountId: string; acr?: string; amr?: string[]; remember?: boolean; ts?: number };
    consent?: { grantId?: string };
    error?: string;
    error_description?: string;
    [key: string]: unknown;
  }

  export interface Account {
    accountId: string;
    claims(
      use: string,
      scope: string,
      claims: unknown,
      rejected: string[],
    ): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  export type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    proxy: boolean;
    readonly issuer: string;
    readonly Grant: GrantClass;
    readonly Client: {
      prototype: { compareClientSecret(this: ClientInstance, actual: string): Promise<boolean> };
      find(id: string): Promise<ClientInstance | undefined>;
    };
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    use(middleware: Middleware): void;
    on(event: string, listener: (...args: unknown[]) => void): void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionResult(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
  }

  export class Check {
    /** `error`: the OAuth error for prompt=none when the check asks for the prompt. */
    constructor(
      reason: string,
      description: string,
      error: string,
      check: (ctx: KoaContext) => boolean | Promise<boolean>,
    );
    static readonly REQUEST_PROMPT: true;
    static readonly NO_NEED_TO_PROMPT: false;
  }

  export interface Prompt {
    name: string;
    checks: Check[] & { add(check: Check, index?: number): void };
  }

  export const interactionPolicy: {
    Check: typeof Check;
    base(): Prompt[] & { get(name: string): Prompt | undefined };
  };

  export const errors: Record<string, new (...args: unknown[]) => Error>;

  export default Provider;
}
