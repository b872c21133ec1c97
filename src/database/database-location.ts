import type { OnApplicationShutdown } from '@nestjs/common';
import type { EmbeddedPostgres } from './embedded-postgres.js';

/** Where the database is: the configured PostgreSQL, or the embedded one started here. */
export class DatabaseLocation implements OnApplicationShutdown {
  constructor(
    readonly url: string,
    private readonly embedded?: EmbeddedPostgres,
  ) {}

  get isEmbedded(): boolean {
    return this.embedded !== undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.embedded?.stop();
  }
}
