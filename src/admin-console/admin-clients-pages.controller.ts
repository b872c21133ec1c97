import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { CreateClientDto, UpdateClientDto } from '../oidc/dto/clients.dto.js';
import { OidcClients } from '../oidc/oidc-clients.service.js';
import type { FormRequest } from '../pages/page-base.js';
import { type PageErrors, statusOf } from '../pages/page-errors.js';
import { PageRenderer } from '../pages/page-renderer.js';
import { HostedPages } from '../pages/hosted-page.decorator.js';
import { PageSession, type SignedInSession } from '../pages/guards/page-session.decorator.js';
import {
  clientChangesInput,
  type FormFields,
  newClientInput,
  text,
  ticked,
  validated,
} from './console-forms.js';
import {
  asFormErrors,
  asErrorPage,
  clientIdOf,
  consoleErrors,
  type ConsoleText,
  consoleText,
  found,
  sendConsolePage,
} from './console-pages.js';
import { ConsoleViews } from './console-views.service.js';
import { AdminPage } from './guards/admin-page.guard.js';

/** `?done=` after an action, and the notice it shows. */
const NOTICES: Record<string, string> = {
  created: 'admin.clients.notices.created',
  updated: 'admin.clients.notices.updated',
  deleted: 'admin.clients.notices.deleted',
};

/** The notice of a `?done=` value, in the page's language. */
function noticeOf(t: ConsoleText, fields: FormFields): string | undefined {
  const done = text(fields, 'done');
  // Own keys only: `?done=constructor` is no notice.
  return Object.hasOwn(NOTICES, done) ? t(NOTICES[done]) : undefined;
}

/** OpenID Connect clients: list, register (the secret shown once), edit, new secret, delete. */
@AdminPage()
@HostedPages()
@Controller('admin/clients')
export class AdminClientsPagesController {
  constructor(
    private readonly renderer: PageRenderer,
    private readonly clients: OidcClients,
    private readonly views: ConsoleViews,
  ) {}

  @Get()
  async list(
    @PageSession() session: SignedInSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const t = consoleText(this.renderer, reply, session);
    const clients = await this.clients.list();
    return sendConsolePage(this.renderer, reply, session, 'clients', 'clients', {
      title: t('admin.clients.title'),
      notice: noticeOf(t, request.query as FormFields),
      clients: clients.map((c) => this.views.client(c)),
    });
  }

  @Get('new')
  newClientForm(
    @PageSession() session: SignedInSession,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    return this.renderNew(reply, session, { fields: {} }, 200, {});
  }

  @Post()
  async create(
    @PageSession() session: SignedInSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const body = request.body;
    try {
      const input = await validated(CreateClientDto, newClientInput(body));
      const created = await this.clients.create(input, { id: session.user.userId, ip });
      if (!created.clientSecret) {
        return this.renderer.redirect(reply, `/admin/clients/${created.clientId}?done=created`);
      }
      return this.renderSecret(reply, session, created, created.clientSecret, true);
    } catch (error) {
      return this.renderNew(
        reply,
        session,
        consoleErrors(error, {}, consoleText(this.renderer, reply, session)),
        statusOf(error),
        {
          name: text(body, 'name'),
          redirectUris: text(body, 'redirectUris'),
          postLogoutRedirectUris: text(body, 'postLogoutRedirectUris'),
          public: ticked(body, 'public'),
          firstParty: ticked(body, 'firstParty'),
        },
      );
    }
  }

  @Get(':clientId')
  async show(
    @PageSession() session: SignedInSession,
    @Param('clientId') rawId: string,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const notice = noticeOf(
      consoleText(this.renderer, reply, session),
      request.query as FormFields,
    );
    return this.renderClient(reply, session, clientIdOf(rawId), { fields: {} }, 200, null, notice);
  }

  @Post(':clientId')
  async update(
    @PageSession() session: SignedInSession,
    @Param('clientId') rawId: string,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const clientId = clientIdOf(rawId);
    const body = request.body;
    try {
      const changes = await validated(UpdateClientDto, clientChangesInput(body));
      await this.clients.update(clientId, changes, { id: session.user.userId, ip });
      return this.renderer.redirect(reply, `/admin/clients/${clientId}?done=updated`);
    } catch (error) {
      const errors = consoleErrors(
        asErrorPage(error),
        {},
        consoleText(this.renderer, reply, session),
      );
      return this.renderClient(reply, session, clientId, errors, statusOf(error), {
        name: text(body, 'name'),
        redirectUrisText: text(body, 'redirectUris'),
        postLogoutRedirectUrisText: text(body, 'postLogoutRedirectUris'),
        firstParty: ticked(body, 'firstParty'),
      });
    }
  }

  /** A new secret, shown once; the previous one stops working at once. */
  @Post(':clientId/secret')
  async rotateSecret(
    @PageSession() session: SignedInSession,
    @Param('clientId') rawId: string,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const clientId = clientIdOf(rawId);
    try {
      const secret = await this.clients.rotateSecret(clientId, { id: session.user.userId, ip });
      const client = await found(this.clients.get(clientId));
      return this.renderSecret(reply, session, client, secret, false);
    } catch (error) {
      const errors = asFormErrors(
        consoleErrors(asErrorPage(error), {}, consoleText(this.renderer, reply, session)),
      );
      return this.renderClient(reply, session, clientId, errors, statusOf(error), null);
    }
  }

  @Get(':clientId/delete')
  async confirmDelete(
    @PageSession() session: SignedInSession,
    @Param('clientId') rawId: string,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const client = await found(this.clients.get(clientIdOf(rawId)));
    return sendConsolePage(this.renderer, reply, session, 'clients', 'client-delete', {
      title: consoleText(
        this.renderer,
        reply,
        session,
      )('admin.clientDelete.title', {
        name: client.name,
      }),
      client: this.views.client(client),
    });
  }

  @Post(':clientId/delete')
  async delete(
    @PageSession() session: SignedInSession,
    @Param('clientId') rawId: string,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    await found(this.clients.delete(clientIdOf(rawId), { id: session.user.userId, ip }));
    return this.renderer.redirect(reply, '/admin/clients?done=deleted');
  }

  private renderNew(
    reply: FastifyReply,
    session: SignedInSession,
    errors: PageErrors,
    status: number,
    values: Record<string, unknown>,
  ): Promise<FastifyReply> {
    return sendConsolePage(
      this.renderer,
      reply,
      session,
      'clients',
      'client-new',
      {
        title: consoleText(this.renderer, reply, session)('admin.clientNew.title'),
        errors,
        values,
      },
      status,
    );
  }

  private renderSecret(
    reply: FastifyReply,
    session: SignedInSession,
    client: Parameters<ConsoleViews['client']>[0],
    secret: string,
    created: boolean,
  ): Promise<FastifyReply> {
    return sendConsolePage(
      this.renderer,
      reply,
      session,
      'clients',
      'client-secret',
      {
        title: consoleText(
          this.renderer,
          reply,
          session,
        )(created ? 'admin.clientSecret.createdTitle' : 'admin.clientSecret.rotatedTitle'),
        created,
        client: this.views.client(client),
        secret,
      },
      created ? 201 : 200,
    );
  }

  private async renderClient(
    reply: FastifyReply,
    session: SignedInSession,
    clientId: string,
    errors: PageErrors,
    status: number,
    values: Record<string, unknown> | null,
    notice?: string,
  ): Promise<FastifyReply> {
    const client = this.views.client(await found(this.clients.get(clientId)));
    return sendConsolePage(
      this.renderer,
      reply,
      session,
      'clients',
      'client',
      { title: client.name as string, notice, errors, client, values: values ?? client },
      status,
    );
  }
}
