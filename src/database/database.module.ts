import { Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Settings } from '../config/settings.js';
import { dataSourceOptions, POOL_SIZE } from './data-source.js';
import { EmbeddedPostgres } from './embedded-postgres.js';
import { migrateUnderLock } from './migrator.js';

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

@Module({
  providers: [
    {
      provide: DatabaseLocation,
      inject: [ConfigService],
      useFactory: async (config: ConfigService<Settings, true>) => {
        const { url, dataDir } = config.get('database', { infer: true });
        if (url) {
          return new DatabaseLocation(url);
        }
        const embedded = await EmbeddedPostgres.start(dataDir, POOL_SIZE + 2);
        return new DatabaseLocation(embedded.url, embedded);
      },
    },
  ],
  exports: [DatabaseLocation],
})
class DatabaseLocationModule {}

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      imports: [DatabaseLocationModule],
      inject: [DatabaseLocation],
      useFactory: (location: DatabaseLocation) => ({
        ...dataSourceOptions(location.url),
        retryAttempts: location.isEmbedded ? 0 : 5,
        retryDelay: 2000,
      }),
      dataSourceFactory: async (options) => {
        const dataSource = await new DataSource(options!).initialize();
        const applied = await migrateUnderLock(dataSource);
        if (applied.length > 0) {
          new Logger('Database').log(`applied migrations: ${applied.join(', ')}`);
        }
        return dataSource;
      },
    }),
  ],
})
export class DatabaseModule {}
