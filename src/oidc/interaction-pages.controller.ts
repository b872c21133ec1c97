import { Controller, Get, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AllowedWithTemporaryPassword } from '../common/decorators/allow-password-change.decorator.js';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { PageSession, type SignedInSession } from '../pages/guards/page-session.decorator.js';
import { SignInChallenge, TwoFactorStep } from '../pages/guards/two-factor-step.guard.js';
import { field, type FormRequest } from '../pages/page-base.js';
import { type PageData, PageRenderer } from '../pages/page-renderer.js';
import { PageSessions } from '../pages/page-session.service.js';
import { SignInService } from '../pages/sign-in.service.js';
import {
  InteractionFlow,
  type Next,
  requestedScopes,
  SCOPE_TEXT,
} from './interaction-flow.service.js';
import {
  CurrentInteraction,
  type Interaction,
  InteractionPages,
  InteractionStep,
} from './interaction.guard.js';

/** How long "Forgot your password?" remembers the application's sign-in: a reset's whole span. */
const RETURN_TTL_SECONDS = 3600;

/**
 * An application's sign-in (OpenID Connect) on the hosted pages: the same sign-in steps
 * (SignInService), CSRF, CSP and throttles as /login, plus the consent page. The sign-in is
 * loaded, and each step's order checked, by InteractionGuard; InteractionFlow decides what
 * comes next and tells the provider, which then sends the browser back to the application.
 */
@InteractionPages()
@Controller('interaction/:uid')
export class InteractionPagesController {
  constructor(
    private readonly flow: InteractionFlow,
    private readonly signIn: SignInService,
    private readonly sessions: PageSessions,
    private readonly renderer: PageRenderer,
  ) {}

  @Get()
  async show(
    @PageSession() session: PageSession,
    @CurrentInteraction() interaction: Interaction,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const next = await this.flow.arrive(interaction, session.user, request, reply);
    return this.go(next, interaction, session, reply);
  }

  @Post('login')
  async login(
    @PageSession() session: PageSession,
    @CurrentInteraction() interaction: Interaction,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const step = await this.signIn.withPassword(request, reply, ip, interaction.path);
    switch (step.next) {
      case 'two-factor':
        return this.renderer.redirect(reply, `${interaction.path}/two-factor`);
      case 'signed-in': {
        const next = await this.flow.signedIn(interaction, step.user, request, reply);
        return this.go(next, interaction, session, reply);
      }
      case 'retry':
        return this.renderLogin(
          interaction,
          session,
          reply,
          { username: field(request, 'username'), errors: step.errors },
          step.status,
        );
    }
  }

  @Get('two-factor')
  @TwoFactorStep()
  async twoFactorForm(
    @PageSession() session: PageSession,
    @CurrentInteraction() interaction: Interaction,
    @Query('recovery') recovery: unknown,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    return this.render('oidc-two-factor', interaction, session, reply, {
      title: 'Two-step verification',
      recovery: recovery === '1',
    });
  }

  @Post('two-factor')
  @TwoFactorStep()
  async twoFactor(
    @PageSession() session: PageSession,
    @CurrentInteraction() interaction: Interaction,
    @SignInChallenge() challenge: string,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const step = await this.signIn.withCode(challenge, request, reply, ip, interaction.path);
    switch (step.next) {
      case 'signed-in': {
        const next = await this.flow.signedIn(interaction, step.user, request, reply);
        return this.go(next, interaction, session, reply);
      }
      case 'start-again':
        return this.renderLogin(interaction, session, reply, { errors: step.errors }, step.status);
      case 'retry':
        return this.render(
          'oidc-two-factor',
          interaction,
          session,
          reply,
          {
            title: 'Two-step verification',
            recovery: field(request, 'recovery') === '1',
            errors: step.errors,
          },
          step.status,
        );
    }
  }

  @Get('password')
  @InteractionStep('signed-in')
  @AllowedWithTemporaryPassword()
  async passwordForm(
    @PageSession() session: SignedInSession,
    @CurrentInteraction() interaction: Interaction,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    return this.render('oidc-password', interaction, session, reply, {
      title: 'Change your password',
    });
  }

  /** The forced change of a temporary password, inside the application's sign-in. */
  @Post('password')
  @InteractionStep('signed-in')
  @AllowedWithTemporaryPassword()
  async changePassword(
    @PageSession() session: SignedInSession,
    @CurrentInteraction() interaction: Interaction,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const refused = await this.signIn.changePassword(session.user, request, ip);
    if (refused) {
      return this.render(
        'oidc-password',
        interaction,
        session,
        reply,
        { title: 'Change your password', errors: refused.errors },
        refused.status,
      );
    }
    const next = await this.flow.signedIn(interaction, session.user, request, reply);
    return this.go(next, interaction, session, reply);
  }

  @Post('consent')
  @InteractionStep('consent')
  async approve(
    @PageSession() session: SignedInSession,
    @CurrentInteraction() interaction: Interaction,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const next = await this.flow.allow(interaction, session.user, request, reply);
    return this.go(next, interaction, session, reply);
  }

  @Post('abort')
  async abort(
    @PageSession() session: PageSession,
    @CurrentInteraction() interaction: Interaction,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    return this.go(await this.flow.deny(request, reply), interaction, session, reply);
  }

  /** "Forgot your password?": the reset flow, then back to this application's sign-in. */
  @Get('forgot')
  forgot(@CurrentInteraction() interaction: Interaction, @Res() reply: FastifyReply): FastifyReply {
    this.sessions.setReturnTo(reply, this.flow.authorizeAgain(interaction), RETURN_TTL_SECONDS);
    return this.renderer.redirect(reply, '/forgot-password');
  }

  private go(
    next: Next,
    interaction: Interaction,
    session: PageSession,
    reply: FastifyReply,
  ): Promise<FastifyReply> | FastifyReply {
    if ('redirect' in next) {
      return this.renderer.redirect(reply, next.redirect);
    }
    if (next.page === 'login') {
      return this.renderLogin(interaction, session, reply, {});
    }
    const scopes = requestedScopes(interaction.details).map((scope) => ({
      scope,
      text: SCOPE_TEXT[scope] ?? scope,
    }));
    return this.render('oidc-consent', interaction, session, reply, {
      title: `Allow ${interaction.client.name}?`,
      scopes,
    });
  }

  private renderLogin(
    interaction: Interaction,
    session: PageSession,
    reply: FastifyReply,
    data: Partial<PageData>,
    status = 200,
  ): Promise<FastifyReply> {
    const hint = interaction.details.params.login_hint;
    return this.render(
      'oidc-login',
      interaction,
      session,
      reply,
      { username: typeof hint === 'string' ? hint : '', ...data, title: 'Sign in' },
      status,
    );
  }

  /** One of the sign-in's pages, naming the application; its forms post under its path. */
  private render(
    view: 'oidc-login' | 'oidc-two-factor' | 'oidc-password' | 'oidc-consent',
    interaction: Interaction,
    session: PageSession,
    reply: FastifyReply,
    data: PageData,
    status = 200,
  ): Promise<FastifyReply> {
    return this.renderer.send(
      reply,
      session,
      view,
      { ...data, clientName: interaction.client.name, action: interaction.path },
      status,
    );
  }
}
