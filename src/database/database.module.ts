import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Settings } from '../config/settings.js';
import { dataSourceOptions } from './data-source.js';
import { DatabaseLocation } from './database-location.js';
import { EmbeddedPostgres } from './embedded-postgres.js';
import { migrateUnderLock } from './migrator.js';
import { PreparedStatements } from './prepared-statements.js';

@Module({})
class DatabaseLocationModule {
  /** `embedded`: PGlite already being started by main.ts while the application loaded. */
  static forRoot(embedded?: Promise<EmbeddedPostgres>): DynamicModule {
    return {
      module: DatabaseLocationModule,
      providers: [
        {
          provide: DatabaseLocation,
          inject: [ConfigService],
          useFactory: async (config: ConfigService<Settings, true>) => {
            const { url, dataDir } = config.get('database', { infer: true });
            if (url) {
              return new DatabaseLocation(url);
            }
            const started = await (embedded ?? EmbeddedPostgres.start(dataDir));
            new Logger('EmbeddedPostgres').log(
              `embedded PostgreSQL (PGlite) ready with data in ${started.dir}`,
            );
            return new DatabaseLocation(started.url, started);
          },
        },
      ],
      exports: [DatabaseLocation],
    };
  }
}

@Module({})
export class DatabaseModule {
  static forRoot(embedded?: Promise<EmbeddedPostgres>): DynamicModule {
    const location = DatabaseLocationModule.forRoot(embedded);
    return {
      module: DatabaseModule,
      global: true,
      providers: [PreparedStatements],
      exports: [PreparedStatements],
      imports: [
        location,
        TypeOrmModule.forRootAsync({
          imports: [location],
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
    };
  }
}
