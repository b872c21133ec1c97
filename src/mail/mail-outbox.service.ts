import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import { SecretBox } from '../common/crypto/secret-box.js';
import { MailOutboxRepository } from './mail-outbox.repository.js';
import type { MailTemplateName, MailTemplates } from './mail-templates.js';

export function outboxContextLabel(id: string): string {
  return `mail-outbox:${id}`;
}

/**
 * Queues mails in the durable outbox. Always called with the manager of the transaction that
 * changes the state the mail announces, so the mail exists if and only if the change does.
 * The request path never waits for SMTP: the worker sends.
 */
@Injectable()
export class MailOutbox {
  constructor(
    private readonly repository: MailOutboxRepository,
    private readonly clock: Clock,
    private readonly box: SecretBox,
  ) {}

  async enqueue<T extends MailTemplateName>(
    manager: EntityManager,
    template: T,
    recipient: string,
    context: MailTemplates[T],
  ): Promise<void> {
    const id = randomUUID();
    const now = this.clock.now();
    await this.repository.insert(
      {
        id,
        template,
        recipient,
        locale: null,
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
