import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Languages (issue #14): `users.locale` is the language a user chose for pages and mails, and
 * `mail_outbox.locale` the language a queued mail is written in, decided when it is queued.
 *
 * Both are nullable and existing rows stay NULL: a user who never chose keeps getting pages in
 * their browser's language (Accept-Language) and mails in DEFAULT_LOCALE, rather than being
 * pinned to English by the upgrade; a mail queued before the upgrade goes out in
 * DEFAULT_LOCALE. No CHECK constraint: the supported languages are the application's list
 * (src/i18n/locales.ts), so adding one needs no migration.
 */
export class Languages1764600000000 implements MigrationInterface {
  name = 'Languages1764600000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE users ADD COLUMN locale varchar(16)`);
    await db.query(`ALTER TABLE mail_outbox ADD COLUMN locale varchar(16)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE mail_outbox DROP COLUMN locale`);
    await db.query(`ALTER TABLE users DROP COLUMN locale`);
  }
}
