import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/decorators/public.decorator.js';
import { ApiProblems } from '../common/openapi.js';
import { HealthService, type Readiness } from './health.service.js';

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @ApiOperation({ summary: 'The process is up (also on MANAGEMENT_PORT)' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary: 'The database answers and every migration is applied (also on MANAGEMENT_PORT)',
  })
  @ApiOkResponse({
    schema: { example: { status: 'ok', checks: { database: 'up', migrations: 'applied' } } },
  })
  @ApiProblems('SERVICE_UNAVAILABLE')
  ready(): Promise<Readiness> {
    return this.health.readiness();
  }
}
