import { Controller, Get, Req, Res } from '@nestjs/common';
import { isUUID } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { AuditQueryDto } from '../audit/dto/audit-event.dto.js';
import { EMAIL_MAX_LENGTH } from '../common/dto/fields.js';
import { AppError } from '../common/errors/app-error.js';
import { AUDIT_EVENT_TYPES } from '../audit/audit.service.js';
import type { FormRequest } from '../pages/page-base.js';
import { statusOf } from '../pages/page-errors.js';
import { PageRenderer } from '../pages/page-renderer.js';
import { HostedPages } from '../pages/hosted-page.decorator.js';
import { PageSession, type SignedInSession } from '../pages/guards/page-session.decorator.js';
import { UsersService } from '../users/users.service.js';
import { type FormFields, queryInput, text, validated } from './console-forms.js';
import {
  asFormErrors,
  consoleErrors,
  type ConsoleText,
  consoleText,
  sendConsolePage,
} from './console-pages.js';
import { ConsoleViews, pager } from './console-views.service.js';
import { AdminPage } from './guards/admin-page.guard.js';

/** The audit trail of everyone, newest first, filtered by user (name or id) and event type. */
@AdminPage()
@HostedPages()
@Controller('admin/audit')
export class AdminAuditPagesController {
  constructor(
    private readonly renderer: PageRenderer,
    private readonly users: UsersService,
    private readonly views: ConsoleViews,
  ) {}

  @Get()
  async list(
    @PageSession() session: SignedInSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const t = consoleText(this.renderer, reply, session);
    const query = request.query as FormFields;
    const who = text(query, 'user').trim();
    const type = text(query, 'type');
    const shown = {
      title: t('admin.audit.title'),
      filterUser: who,
      types: AUDIT_EVENT_TYPES.map((value) => ({ value, selected: value === type })),
      rows: [],
    };
    try {
      const q = await validated(
        AuditQueryDto,
        { ...queryInput(query, ['type', 'page', 'pageSize']), ...(await this.userFilter(who, t)) },
        'query',
      );
      const { rows, total } = await this.views.auditPage(q);
      const filters = {
        user: who,
        type: q.type,
        pageSize: q.pageSize === 20 ? undefined : `${q.pageSize}`,
      };
      return sendConsolePage(this.renderer, reply, session, 'audit', 'audit', {
        ...shown,
        rows,
        pager: pager('/admin/audit', filters, q.page, q.pageSize, total),
      });
    } catch (error) {
      const errors = asFormErrors(consoleErrors(error, { USER_NOT_FOUND: 'userId' }, t));
      return sendConsolePage(
        this.renderer,
        reply,
        session,
        'audit',
        'audit',
        { ...shown, errors },
        statusOf(error),
      );
    }
  }

  /**
   * The user filter as the API takes it (userId): an id as typed (events outlive a deleted
   * user), or the id of the user with this username or email.
   */
  private async userFilter(who: string, t: ConsoleText): Promise<{ userId?: string }> {
    if (who === '') {
      return {};
    }
    if (who.length > EMAIL_MAX_LENGTH) {
      throw new AppError('VALIDATION_FAILED', t('admin.audit.userTooLong'), {
        errors: [{ field: 'userId', rule: 'maxLength', message: 'userId is too long' }],
      });
    }
    if (isUUID(who)) {
      return { userId: who };
    }
    const user = await this.users.findByLogin(who);
    if (!user) {
      throw new AppError('USER_NOT_FOUND', t('admin.audit.unknownUser', { who }));
    }
    return { userId: user.id };
  }
}
