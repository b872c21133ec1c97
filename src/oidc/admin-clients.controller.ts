import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { CurrentUser, type Principal } from '../common/decorators/current-user.decorator.js';
import { Roles } from '../common/decorators/roles.decorator.js';
import { AppError } from '../common/errors/app-error.js';
import { ApiProblems } from '../common/openapi.js';
import {
  ClientDto,
  ClientListDto,
  ClientSecretDto,
  CreateClientDto,
  CreatedClientDto,
  UpdateClientDto,
} from './dto/clients.dto.js';
import { OidcClients } from './oidc-clients.service.js';

/** A client id as we make them; anything else (too long, NUL, …) is simply no client. */
const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

const ClientId = () =>
  Param('clientId', {
    transform: (value: string) => {
      if (!CLIENT_ID.test(value)) {
        throw new AppError('CLIENT_NOT_FOUND', 'There is no client with this id.');
      }
      return value;
    },
  });

const ClientIdParam = () =>
  ApiParam({
    name: 'clientId',
    description: 'the client_id given at creation; any other value answers 404 CLIENT_NOT_FOUND',
    example: 'G6c0m7Qb2k8yQmVb0x9Zpw',
    schema: { type: 'string', maxLength: 64, pattern: CLIENT_ID.source },
  });

/** Applications that sign their users in with OpenID Connect, registered by admins. */
@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@ApiProblems('UNAUTHORIZED', 'FORBIDDEN', 'PASSWORD_CHANGE_REQUIRED')
@Controller('api/v1/admin/clients')
export class AdminClientsController {
  constructor(private readonly clients: OidcClients) {}

  @Post()
  @ApiOperation({
    summary:
      'Register an application; a confidential one gets a client secret, shown only in this answer',
  })
  @ApiCreatedResponse({ type: CreatedClientDto })
  @ApiProblems('VALIDATION_FAILED')
  async create(
    @Body() dto: CreateClientDto,
    @CurrentUser() me: Principal,
    @ClientIp() ip: string,
  ): Promise<CreatedClientDto> {
    const created = await this.clients.create(dto, { id: me.userId, ip });
    return {
      ...ClientDto.from(created),
      ...(created.clientSecret ? { clientSecret: created.clientSecret } : {}),
    };
  }

  @Get()
  @ApiOperation({ summary: 'Every registered application, oldest first' })
  @ApiOkResponse({ type: ClientListDto })
  async list(): Promise<ClientListDto> {
    return { items: (await this.clients.list()).map((c) => ClientDto.from(c)) };
  }

  @Get(':clientId')
  @ClientIdParam()
  @ApiOperation({ summary: 'One application (never its secret)' })
  @ApiOkResponse({ type: ClientDto })
  @ApiProblems('CLIENT_NOT_FOUND')
  async get(@ClientId() clientId: string): Promise<ClientDto> {
    return ClientDto.from(await this.clients.get(clientId));
  }

  @Patch(':clientId')
  @ClientIdParam()
  @ApiOperation({ summary: 'Change the name, redirect URIs or first-party flag' })
  @ApiOkResponse({ type: ClientDto })
  @ApiProblems('VALIDATION_FAILED', 'CLIENT_NOT_FOUND')
  async update(
    @ClientId() clientId: string,
    @Body() dto: UpdateClientDto,
    @CurrentUser() me: Principal,
    @ClientIp() ip: string,
  ): Promise<ClientDto> {
    return ClientDto.from(await this.clients.update(clientId, dto, { id: me.userId, ip }));
  }

  @Delete(':clientId')
  @HttpCode(204)
  @ClientIdParam()
  @ApiOperation({ summary: 'Remove the application; every token it holds stops working at once' })
  @ApiNoContentResponse()
  @ApiProblems('CLIENT_NOT_FOUND')
  async delete(
    @ClientId() clientId: string,
    @CurrentUser() me: Principal,
    @ClientIp() ip: string,
  ): Promise<void> {
    await this.clients.delete(clientId, { id: me.userId, ip });
  }

  @Post(':clientId/secret')
  @HttpCode(201)
  @ClientIdParam()
  @ApiOperation({
    summary: 'A new client secret, shown only in this answer; the previous one stops working',
  })
  @ApiCreatedResponse({ type: ClientSecretDto })
  @ApiProblems('CLIENT_NOT_FOUND', 'CLIENT_IS_PUBLIC')
  async rotateSecret(
    @ClientId() clientId: string,
    @CurrentUser() me: Principal,
    @ClientIp() ip: string,
  ): Promise<ClientSecretDto> {
    return {
      clientId,
      clientSecret: await this.clients.rotateSecret(clientId, { id: me.userId, ip }),
    };
  }
}
