import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyReply } from 'fastify';
import type { Settings } from '../config/settings.js';
import { I18n } from '../i18n/i18n.service.js';
import type { Locale } from '../i18n/locales.js';
import { languageLinks, requestLocale } from '../i18n/request-locale.js';
import type { PageErrors } from './page-errors.js';
import type { PageSession } from './page-session.service.js';

export const PRODUCT_NAME = 'Portcullis';

export interface PageData {
  title: string;
  errors?: PageErrors;
  notice?: string;
  [key: string]: unknown;
}

/** Renders a page inside the shared layout, with what every page shows. */
@Injectable()
export class PageRenderer {
  private readonly issuer: string;

  constructor(
    config: ConfigService<Settings, true>,
    readonly i18n: I18n,
  ) {
    this.issuer = config.get('totp', { infer: true }).issuer;
  }

  /** The language this page answers in: `?lang=`, its cookie, Accept-Language, DEFAULT_LOCALE. */
  localeOf(reply: FastifyReply, _session: PageSession | null): Locale {
    return requestLocale(reply.request, null, this.i18n.defaultLocale);
  }

  async send(
    reply: FastifyReply,
    session: PageSession | null,
    view: string,
    data: PageData,
    status = 200,
  ): Promise<FastifyReply> {
    const errors = data.errors ?? { fields: {} };
    const locale = this.localeOf(reply, session);
    const html = await reply.viewAsync(`${view}.hbs`, {
      ...data,
      // `{{t}}` reads the language from here; `<html lang>` names it; the switcher links.
      locale,
      languages: languageLinks(reply.request, locale),
      productName: PRODUCT_NAME,
      issuer: this.issuer,
      showIssuer: this.issuer !== PRODUCT_NAME,
      csrf: session?.csrf ?? '',
      user: session?.user ?? null,
      // The header links to the admin console for admins.
      isAdmin: session?.user?.roles.includes('admin') ?? false,
      formError: errors.form,
      fieldErrors: errors.fields,
      hasErrors: Boolean(errors.form) || Object.keys(errors.fields).length > 0,
      // The field partial reads `errors` from its own parameters; never inherit the page's.
      errors: null,
    });
    return reply.status(status).type('text/html; charset=utf-8').send(html);
  }

  redirect(reply: FastifyReply, to: string): FastifyReply {
    // 303: the browser follows with GET, so a reload never re-posts a form.
    return reply.redirect(to, 303);
  }
}
