import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import { SecretBox } from '../common/crypto/secret-box.js';
import { I18n } from '../i18n/i18n.service.js';
import type { Locale } from '../i18n/locales.js';
import { MailOutboxRepository } from './mail-outbox.repository.js';
import type { MailTemplateName, MailTemplates } from './mail-templates.js';

export function outboxContextLabel(id: string): string {
  return `mail-outbox:${id}`;
}

/** Who a mail goes to: the address, and the language the recipient chose (null: not chosen). */
export interface MailRecipient {
  email: string;
  locale: Locale | null;
}

/**
 * Queues mails in the durable outbox. Always called with the manager of the transaction that
 * changes the state the mail announces, so the mail exists if and only if the change does.
 * The request path never waits for SMTP: the worker sends.
 *
 * The mail's language is decided here, when it is queued: the recipient's `locale`, or
 * DEFAULT_LOCALE when they chose none. It is stored with the row, so a mail keeps its language
 * whatever changes (the user's choice, DEFAULT_LOCALE) before the worker sends it.
 */
@Injectable()
export class MailOutbox {
  constructor(
    private readonly repository: MailOutboxRepository,
    private readonly clock: Clock,
    private readonly box: SecretBox,
    private readonly i18n: I18n,
  ) {}

  async enqueue<T extends MailTemplateName>(
    manager: EntityManager,
    template: T,
    to: MailRecipient,
    context: MailTemplates[T],
  ): Promise<void> {
    const id = randomUUID();
    const now = this.clock.now();
    await this.repository.insert(
      {
        id,
        template,
        recipient: to.email,
        locale: to.locale ?? this.i18n.defaultLocale,
        contextSealed: this.box.seal(JSON.stringify(context), outboxContextLabel(id)),
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        lastError: null,
        createdAt: now,
        sentAt: null,
      },
      manager,
    );
  }
}
