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
  asPageProblem,
  consoleErrors,
  found,
  sendConsolePage,
  userIdOf,
} from './console-pages.js';
import { ConsoleViews, pager } from './console-views.service.js';
import { AdminPage } from './guards/admin-page.guard.js';

const LABELS = {
  username: 'The username',
  password: 'The password',
  email: 'The email address',
  emailVerified: 'Verified',
  roles: 'The roles',
  temporaryPassword: 'Temporary password',
  temporary: 'Temporary password',
  search: 'The search',
  page: 'The page number',
  pageSize: 'The page size',
};

const NOTICES: Record<string, string> = {
  created: 'The user was created.',
  updated: 'The changes were saved.',
  disabled: 'The user is disabled: they cannot sign in, and all their sessions ended.',
  enabled: 'The user is enabled again.',
  password: "The new password is set. All the user's sessions ended.",
  'two-factor-reset':
    'Two-factor authentication was reset: the user signs in with the password alone until they turn it on again.',
  deleted: 'The user was deleted.',
};

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
    const query = request.query as FormFields;
    const search = text(query, 'search');
    const notice = NOTICES[text(query, 'done')];
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
        title: 'Users',
        notice,
        search,
        users: items.map((u) => this.views.user(u)),
        pager: pager('/admin/users', filters, q.page, q.pageSize, total),
      });
    } catch (error) {
      const errors = asFormErrors(consoleErrors(error, {}, LABELS));
      return sendConsolePage(
        this.renderer,
        reply,
        session,
        'users',
        'users',
        { title: 'Users', search, users: [], errors },
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
    try {
      const input = await validated(CreateUserDto, newUserInput(body));
      const user = await this.users.create(input, { id: session.user.userId, ip });
      return this.renderer.redirect(reply, `/admin/users/${user.id}?done=created`);
    } catch (error) {
      const errors = consoleErrors(
        error,
        { USERNAME_TAKEN: 'username', EMAIL_TAKEN: 'email' },
        LABELS,
      );
      return this.renderNewUser(reply, session, errors, statusOf(error), {
        username: text(body, 'username'),
        email: text(body, 'email'),
        roles: text(body, 'roles'),
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
    const notice = NOTICES[text(request.query as FormFields, 'done')];
    return this.renderUser(reply, session, userIdOf(rawId), { fields: {} }, 200, null, notice);
  }

  /** Email and roles. */
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
        asPageProblem(error),
        { EMAIL_TAKEN: 'email', SELF_LOCKOUT: 'roles' },
        LABELS,
      );
      return this.renderUser(reply, session, id, errors, statusOf(error), {
        form: 'details',
        values: {
          email: text(request.body, 'email'),
          roles: text(request.body, 'roles'),
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
      const errors = consoleErrors(asPageProblem(error), {}, LABELS);
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
      const errors = consoleErrors(asPageProblem(error), {}, LABELS);
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
      const errors = consoleErrors(asPageProblem(error), {}, LABELS);
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
        title: 'Create a user',
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
        formErrors: form
          ? { [form.form]: FIELDLESS.has(form.form) ? asFormErrors(errors).form : errors.form }
          : {},
        u: shown,
        self: id === session.user.userId,
        values: form?.values ?? {
          email: shown.email ?? '',
          roles: user.roles.join(', '),
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
        title: `Delete ${user.username}`,
        u: this.views.user(user),
        self: id === session.user.userId,
        errors: asFormErrors(errors),
      },
      status,
    );
  }
}
