import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError } from '../common/errors/app-error.js';
import { migrationsUpToDate } from '../database/migrator.js';

export interface Readiness {
  status: 'ok';
  checks: { database: 'up'; migrations: 'applied' };
}

/** The answers of /health/*, the same on the public and the management port. */
@Injectable()
export class HealthService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Ready = the database answers and every migration is applied; otherwise SERVICE_UNAVAILABLE. */
  async readiness(): Promise<Readiness> {
    let upToDate: boolean;
    try {
      upToDate = await migrationsUpToDate(this.dataSource);
    } catch {
      throw new AppError('SERVICE_UNAVAILABLE', 'The database does not answer.', {
        headers: { 'Retry-After': '5' },
      });
    }
    if (!upToDate) {
      throw new AppError('SERVICE_UNAVAILABLE', 'Database migrations are not all applied.', {
        headers: { 'Retry-After': '5' },
      });
    }
    return { status: 'ok', checks: { database: 'up', migrations: 'applied' } };
  }
}
