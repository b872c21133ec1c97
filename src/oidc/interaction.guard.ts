import {
  applyDecorators,
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  Injectable,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InteractionDetails } from 'oidc-provider';
import { HostedPages } from '../pages/hosted-page.decorator.js';
import { ErrorPage, PageRedirect } from '../pages/page-exceptions.js';
import { type PageUser, PageSessions } from '../pages/page-session.service.js';
import { type ClientView, OidcClients } from './oidc-clients.service.js';
import { formActionPolicy } from './oidc-http.js';
import { OidcProviderService } from './oidc-provider.service.js';

/** The application's sign-in a page belongs to, as InteractionGuard found it. */
export interface Interaction {
  details: InteractionDetails;
  client: ClientView;
  /** Its pages' path: /interaction/:uid. */
  path: string;
}

/**
 * Which step of the sign-in a page is: `sign-in` (anyone whose sign-in is open), `signed-in`
 * (the browser has signed in: the password change), `consent` (signed in as the account the
 * provider asks consent for, with no temporary password left to change).
 */
export type InteractionStepName = 'sign-in' | 'signed-in' | 'consent';

const INTERACTION_STEP = 'portcullis:interaction-step';

/**
 * A controller of an application's sign-in pages: a hosted page (session, CSRF, the pages'
 * filter) whose sign-in is loaded before each handler (@CurrentInteraction()), the step's order
 * enforced (@InteractionStep()), and the forms allowed to lead back to the application.
 */
export function InteractionPages(): ClassDecorator {
  // In this order: a forged form is refused before anything is looked up.
  return applyDecorators(HostedPages(), UseGuards(InteractionGuard));
}

export const InteractionStep = (step: InteractionStepName): MethodDecorator =>
  SetMetadata(INTERACTION_STEP, step);

/** Where a browser that may not take `step` goes instead (its sign-in's first page), or null. */
export function interactionStepRefusal(
  step: InteractionStepName,
  interaction: Interaction,
  user: PageUser | null,
): string | null {
  switch (step) {
    case 'sign-in':
      return null;
    case 'signed-in':
      return user ? null : interaction.path;
    case 'consent':
      return interaction.details.prompt.name === 'consent' &&
        user !== null &&
        user.userId === interaction.details.session?.accountId &&
        !user.mustChangePassword
        ? null
        : interaction.path;
  }
}

type Request = FastifyRequest & { interaction?: Interaction; params: { uid?: string } };

@Injectable()
export class InteractionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly oidc: OidcProviderService,
    private readonly clients: OidcClients,
    private readonly sessions: PageSessions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const reply = http.getResponse<FastifyReply>();
    const interaction = await this.find(request, reply);
    if (!interaction) {
      throw new ErrorPage(400, {
        title: 'pages.error.signInExpiredTitle',
        heading: 'pages.error.signInExpired',
        message: 'pages.error.signInExpiredMessage',
      });
    }
    // The forms lead back to the application (through the provider's redirect): allow its origin.
    void reply.header(
      'content-security-policy',
      formActionPolicy([
        interaction.details.params.redirect_uri,
        ...interaction.client.redirectUris,
      ]),
    );
    request.interaction = interaction;
    const step =
      this.reflector.get<InteractionStepName | undefined>(INTERACTION_STEP, context.getHandler()) ??
      'sign-in';
    const { user } = await this.sessions.load(request, reply);
    const refusal = interactionStepRefusal(step, interaction, user);
    if (refusal) {
      throw new PageRedirect(refusal);
    }
    return true;
  }

  /** This browser's open sign-in, if it is the one in the address and its client still exists. */
  private async find(request: Request, reply: FastifyReply): Promise<Interaction | null> {
    let details: InteractionDetails;
    try {
      details = await this.oidc.interactionDetails(request.raw, reply.raw);
    } catch (error) {
      // No interaction cookie, or its interaction expired or was finished: anything else
      // (the database away) is not the user's doing.
      if (error instanceof Error && error.name === 'SessionNotFound') {
        return null;
      }
      throw error;
    }
    const uid = request.params.uid;
    const client = await this.clients.find(details.params.client_id);
    if (details.uid !== uid || !client) {
      return null;
    }
    return { details, client, path: `/interaction/${uid}` };
  }
}

/** The sign-in InteractionGuard loaded for this request. */
export const CurrentInteraction = createParamDecorator(
  (_: unknown, context: ExecutionContext): Interaction => {
    const { interaction } = context.switchToHttp().getRequest<Request>();
    if (!interaction) {
      throw new Error('no interaction on this request: is @InteractionPages() on the controller?');
    }
    return interaction;
  },
);
