import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Public } from '../common/decorators/public.decorator.js';
import { AppError } from '../common/errors/app-error.js';
import { ApiProblems } from '../common/openapi.js';
import { migrationsUpToDate } from '../database/migrator.js';

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @Get('live')
  @ApiOperation({ summary: 'The process is up' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'The database answers and every migration is applied' })
  @ApiOkResponse({
    schema: { example: { status: 'ok', checks: { database: 'up', migrations: 'applied' } } },
  })
  @ApiProblems('SERVICE_UNAVAILABLE')
  async ready(): Promise<{ status: 'ok'; checks: Record<string, string> }> {
    let upToDate: boolean;
    try {
      upToDate = await migrationsUpToDate(this.dataSource);
    } catch {
      throw new AppError('SERVICE_UNAVAILABLE', 'The database does not answer.');
    }
    if (!upToDate) {
      throw new AppError('SERVICE_UNAVAILABLE', 'Database migrations are not all applied.');
    }
    return { status: 'ok', checks: { database: 'up', migrations: 'applied' } };
  }
}
