import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import type { FormRequest } from '../pages/page-base.js';
import { type PageErrors, statusOf } from '../pages/page-errors.js';
import { PageRenderer } from '../pages/page-renderer.js';
import { HostedPages } from '../pages/hosted-page.decorator.js';
import { PageSession, type SignedInSession } from '../pages/guards/page-session.decorator.js';
import { AdminUsersService } from '../users/admin-users.service.js';
import { AdminSetPasswordDto } from '../users/dto/admin-set-password.dto.js';
import { CreateUserDto } from '../users/dto/create-user.dto.js';
import { ListUsersQueryDto } from '../users/dto/list-users.dto.js';
import { UpdateUserDto } from '../users/dto/update-user.dto.js';
import {
  type FormFields,
  newPasswordInput,
  newUserInput,
  queryInput,
  text,
  ticked,
  userChangesInput,
  validated,
} from './console-forms.js';
import {
  asFormErrors,
  asErrorPage,
  consoleErrors,
  type ConsoleText,
  consoleText,
  found,
  sendConsolePage,
  userIdOf,
} from './console-pages.js';
import { ConsoleViews, pager } from './console-views.service.js';
import { AdminPage } from './guards/admin-page.guard.js';

/** `?done=` after an action, and the notice it shows. */
const NOTICES: Record<string, string> = {
  created: 'admin.users.notices.created',
  updated: 'admin.users.notices.updated',
  disabled: 'admin.users.notices.disabled',
  enabled: 'admin.users.notices.enabled',
  password: 'admin.users.notices.password',
  'two-factor-reset': 'admin.users.notices.twoFactorReset',
  deleted: 'admin.users.notices.deleted',
};

/** The notice of a `?done=` value, in the page's language. */
function noticeOf(t: ConsoleText, fields: FormFields): string | undefined {
  const done = text(fields, 'done');
  // Own keys only: `?done=constructor` is no notice.
  return Object.hasOwn(NOTICES, done) ? t(NOTICES[done]) : undefined;
}

/** Which form of the user page an error belongs to, and what it had typed (never a password). */
interface UserForm {
  form: 'details' | 'state' | 'password';
  values?: Record<string, unknown>;
}

/** Forms of the user page without fields of their own: every error goes above the button. */
const FIELDLESS = new Set<UserForm['form']>(['state']);

/** The console's users: list, create, one user's page and what admins do to a user. */
@AdminPage()
@HostedPages()
@Controller('admin')
export class AdminUsersPagesController {
  constructor(
    private readonly renderer: PageRenderer,
    private readonly users: AdminUsersService,
    private readonly views: ConsoleViews,
  ) {}

  @Get()
  home(@Res() reply: FastifyReply): FastifyReply {
    return this.renderer.redirect(reply, '/admin/users');
  }

  @Get('users')
  async list(
    @PageSession() session: SignedInSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const t = consoleText(this.renderer, reply, session);
    const query = request.query as FormFields;
    const search = text(query, 'search');
    const notice = noticeOf(t, query);
    try {
      const q = await validated(
        ListUsersQueryDto,
        queryInput(query, ['search', 'page', 'pageSize']),
        'query',
      );
      const { items, total } = await this.users.list(q);
      const filters = {
        search: q.search,
        pageSize: q.pageSize === 20 ? undefined : `${q.pageSize}`,
      };
      return sendConsolePage(this.renderer, reply, session, 'users', 'users', {
        title: t('admin.users.title'),
        notice,
        search,
        users: items.map((u) => this.views.user(u)),
        pager: pager('/admin/users', filters, q.page, q.pageSize, total),
      });
    } catch (error) {
      const errors = asFormErrors(consoleErrors(error, {}, t));
      return sendConsolePage(
        this.renderer,
        reply,
        session,
        'users',
        'users',
        { title: t('admin.users.title'), search, users: [], errors },
        statusOf(error),
      );
    }
  }

  @Get('users/new')
  newUserForm(
    @PageSession() session: SignedInSession,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    return this.renderNewUser(reply, session, { fields: {} }, 200, {
      temporaryPassword: true,
      emailVerified: true,
    });
  }

  @Post('users')
  async create(
    @PageSession() session: SignedInSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const body = request.body;
    const t = consoleText(this.renderer, reply, session);
    try {
      const input = await validated(CreateUserDto, newUserInput(body));
      const user = await this.users.create(input, { id: session.user.userId, ip });
      return this.renderer.redirect(reply, `/admin/users/${user.id}?done=created`);
    } catch (error) {
      const errors = consoleErrors(error, { USERNAME_TAKEN: 'username', EMAIL_TAKEN: 'email' }, t);
      return this.renderNewUser(reply, session, errors, statusOf(error), {
        username: text(body, 'username'),
        email: text(body, 'email'),
        roles: text(body, 'roles'),
        locale: text(body, 'locale'),
        temporaryPassword: ticked(body, 'temporaryPassword'),
        emailVerified: ticked(body, 'emailVerified'),
      });
    }
  }

  @Get('users/:id')
  async show(
    @PageSession() session: SignedInSession,
    @Param('id') rawId: string,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const notice = noticeOf(
      consoleText(this.renderer, reply, session),
      request.query as FormFields,
    );
    return this.renderUser(reply, session, userIdOf(rawId), { fields: {} }, 200, null, notice);
  }

  /** Email, roles and language. */
  @Post('users/:id')
  async update(
    @PageSession() session: SignedInSession,
    @Param('id') rawId: string,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const id = userIdOf(rawId);
    try {
      const changes = await validated(UpdateUserDto, userChangesInput(request.body));
      await this.users.update(id, changes, { id: session.user.userId, ip });
      return this.renderer.redirect(reply, `/admin/users/${id}?done=updated`);
    } catch (error) {
      const errors = consoleErrors(
        asErrorPage(error),
        { EMAIL_TAKEN: 'email', SELF_LOCKOUT: 'roles' },
        consoleText(this.renderer, reply, session),
      );
      return this.renderUser(reply, session, id, errors, statusOf(error), {
        form: 'details',
        values: {
          email: text(request.body, 'email'),
          roles: text(request.body, 'roles'),
          locale: text(request.body, 'locale'),
          emailVerified: ticked(request.body, 'emailVerified'),
        },
      });
    }
  }

  @Post('users/:id/disable')
  disable(
    @PageSession() session: SignedInSession,
    @Param('id') rawId: string,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    return this.setDisabled(session, userIdOf(rawId), true, reply, ip);
  }

  @Post('users/:id/enable')
  enable(
    @PageSession() session: SignedInSession,
    @Param('id') rawId: string,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    return this.setDisabled(session, userIdOf(rawId), false, reply, ip);
  }

  @Post('users/:id/password')
  async setPassword(
    @PageSession() session: SignedInSession,
    @Param('id') rawId: string,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const id = userIdOf(rawId);
    try {
      const input = await validated(AdminSetPasswordDto, newPasswordInput(request.body));
      await this.users.setPassword(id, input.password, input.temporary ?? true, {
        id: session.user.userId,
        ip,
      });
      return this.renderer.redirect(reply, `/admin/users/${id}?done=password`);
    } catch (error) {
      const errors = consoleErrors(
        asErrorPage(error),
        {},
        consoleText(this.renderer, reply, session),
      );
      return this.renderUser(reply, session, id, errors, statusOf(error), {
        form: 'password',
        values: { temporary: ticked(request.body, 'temporary') },
      });
    }
  }

  @Post('users/:id/two-factor/reset')
  async resetTwoFactor(
    @PageSession() session: SignedInSession,
    @Param('id') rawId: string,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const id = userIdOf(rawId);
    await found(this.users.resetTwoFactor(id, { id: session.user.userId, ip }));
    return this.renderer.redirect(reply, `/admin/users/${id}?done=two-factor-reset`);
  }

  /** The confirmation step before a user is deleted. */
  @Get('users/:id/delete')
  async confirmDelete(
    @PageSession() session: SignedInSession,
    @Param('id') rawId: string,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    return this.renderDelete(reply, session, userIdOf(rawId), { fields: {} }, 200);
  }

  @Post('users/:id/delete')
  async delete(
    @PageSession() session: SignedInSession,
    @Param('id') rawId: string,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const id = userIdOf(rawId);
    try {
      await this.users.delete(id, { id: session.user.userId, ip });
      return this.renderer.redirect(reply, '/admin/users?done=deleted');
    } catch (error) {
      const errors = consoleErrors(
        asErrorPage(error),
        {},
        consoleText(this.renderer, reply, session),
      );
      return this.renderDelete(reply, session, id, errors, statusOf(error));
    }
  }

  private async setDisabled(
    session: SignedInSession,
    id: string,
    disabled: boolean,
    reply: FastifyReply,
    ip: string,
  ): Promise<FastifyReply> {
    try {
      await this.users.update(id, { disabled }, { id: session.user.userId, ip });
      return this.renderer.redirect(
        reply,
        `/admin/users/${id}?done=${disabled ? 'disabled' : 'enabled'}`,
      );
    } catch (error) {
      const errors = consoleErrors(
        asErrorPage(error),
        {},
        consoleText(this.renderer, reply, session),
      );
      return this.renderUser(reply, session, id, errors, statusOf(error), { form: 'state' });
    }
  }

  private renderNewUser(
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
      'users',
      'user-new',
      {
        title: consoleText(this.renderer, reply, session)('admin.userNew.title'),
        errors,
        values,
        rules: this.views.passwordRules(errors.rules),
      },
      status,
    );
  }

  private async renderUser(
    reply: FastifyReply,
    session: SignedInSession,
    id: string,
    errors: PageErrors,
    status: number,
    form: UserForm | null,
    notice?: string,
  ): Promise<FastifyReply> {
    const user = await found(this.users.get(id));
    const events = await this.views.auditPage({ userId: id, page: 1, pageSize: 10 });
    const shown = this.views.user(user);
    const locale = this.renderer.localeOf(reply, session);
    const formError = form && (FIELDLESS.has(form.form) ? asFormErrors(errors).form : errors.form);
    return sendConsolePage(
      this.renderer,
      reply,
      session,
      'users',
      'user',
      {
        title: user.username,
        notice,
        errors: form ? { fields: errors.fields, rules: errors.rules } : errors,
        // An error of one form is shown above that form, not at the top of the page.
        formErrors: form && formError ? { [form.form]: this.renderer.say(locale, formError) } : {},
        u: shown,
        self: id === session.user.userId,
        values: form?.values ?? {
          email: shown.email ?? '',
          roles: user.roles.join(', '),
          locale: user.locale ?? '',
          emailVerified: shown.emailVerified,
          temporary: true,
        },
        rules: this.views.passwordRules(form?.form === 'password' ? errors.rules : []),
        events: events.rows,
        moreEvents: events.total > events.rows.length,
        eventsTotal: events.total,
      },
      status,
    );
  }

  private async renderDelete(
    reply: FastifyReply,
    session: SignedInSession,
    id: string,
    errors: PageErrors,
    status: number,
  ): Promise<FastifyReply> {
    const user = await found(this.users.get(id));
    return sendConsolePage(
      this.renderer,
      reply,
      session,
      'users',
      'user-delete',
      {
        title: consoleText(
          this.renderer,
          reply,
          session,
        )('admin.userDelete.title', {
          username: user.username,
        }),
        u: this.views.user(user),
        self: id === session.user.userId,
        errors: asFormErrors(errors),
      },
      status,
    );
  }
}
