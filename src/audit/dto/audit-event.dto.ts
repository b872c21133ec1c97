import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';
import { StringField } from '../../common/dto/fields.js';
import { PageQueryDto } from '../../common/dto/pagination.dto.js';
import type { AuditEventEntity } from '../audit-event.entity.js';

export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'events where the user is the actor or the subject',
  })
  @IsOptional()
  @IsUUID()
  userId?: string;

  @StringField({
    optional: true,
    minLength: 1,
    maxLength: 64,
    pattern: /^[a-z_.]+$/,
    message: 'type must be an event type such as login.failed',
    example: 'login.failed',
  })
  type?: string;
}

export class AuditEventDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'login.failed' }) type!: string;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) actorId!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) subjectId!: string | null;
  @ApiProperty({ nullable: true, type: String }) clientIp!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) flowId!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) details!: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) occurredAt!: string;

  static from(e: AuditEventEntity): AuditEventDto {
    return {
      id: e.id,
      type: e.type,
      actorId: e.actorId,
      subjectId: e.subjectId,
      clientIp: e.clientIp,
      flowId: e.flowId,
      details: e.details as Record<string, unknown>,
      occurredAt: e.occurredAt.toISOString(),
    };
  }
}

export class AuditEventPageDto {
  @ApiProperty({ type: [AuditEventDto] }) items!: AuditEventDto[];
  @ApiProperty({ type: 'integer' }) total!: number;
  @ApiProperty({ type: 'integer' }) page!: number;
  @ApiProperty({ type: 'integer' }) pageSize!: number;
}
