import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import { MailOutboxEntity } from './mail-outbox.entity.js';
import type { MailTemplateName, MailTemplates } from './mail-templates.js';

/**
 * Queues mails in the durable outbox. Always called with the manager of the transaction that
 * changes the state the mail announces, so the mail exists if and only if the change does.
 */
@Injectable()
export class MailOutbox {
  constructor(private readonly clock: Clock) {}

  async enqueue<T extends MailTemplateName>(
    manager: EntityManager,
    template: T,
    recipient: string,
    context: MailTemplates[T],
  ): Promise<void> {
    const now = this.clock.now();
    await manager.getRepository(MailOutboxEntity).insert({
      template,
      recipient,
      context: { ...context },
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      lastError: null,
      createdAt: now,
      sentAt: null,
    });
  }
}
