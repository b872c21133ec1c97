import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/decorators/roles.decorator.js';
import { ApiProblems } from '../common/openapi.js';
import { AuditService } from './audit.service.js';
import { AuditEventDto, AuditEventPageDto, AuditQueryDto } from './dto/audit-event.dto.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@ApiProblems('UNAUTHORIZED', 'FORBIDDEN', 'PASSWORD_CHANGE_REQUIRED')
@Controller('api/v1/admin/audit-events')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'List audit events, newest first' })
  @ApiOkResponse({ type: AuditEventPageDto })
  @ApiProblems('VALIDATION_FAILED')
  async list(@Query() query: AuditQueryDto): Promise<AuditEventPageDto> {
    const { items, total } = await this.audit.list(query);
    return {
      items: items.map((e) => AuditEventDto.from(e)),
      total,
      page: query.page,
      pageSize: query.pageSize,
    };
  }
}
