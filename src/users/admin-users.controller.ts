import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
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
import { AdminSetPasswordDto } from './dto/admin-set-password.dto.js';
import { CreateUserDto } from './dto/create-user.dto.js';
import { ListUsersQueryDto } from './dto/list-users.dto.js';
import { UpdateUserDto } from './dto/update-user.dto.js';
import { UserDto, UserPageDto } from './dto/user.dto.js';
import { AdminUsersService } from './admin-users.service.js';

/** The user's id from the path: a UUID, or else 404 USER_NOT_FOUND like an unknown one. */
const UserId = () =>
  Param(
    'id',
    new ParseUUIDPipe({
      exceptionFactory: () => new AppError('USER_NOT_FOUND', 'There is no user with this id.'),
    }),
  );
/** Documents UserId() on a route. */
const ApiUserId = () =>
  ApiParam({
    name: 'id',
    type: String,
    format: 'uuid',
    description: 'the id of the user; any other value answers 404 USER_NOT_FOUND',
  });

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@ApiProblems('UNAUTHORIZED', 'FORBIDDEN', 'PASSWORD_CHANGE_REQUIRED')
@Controller('api/v1/admin/users')
export class AdminUsersController {
  constructor(private readonly users: AdminUsersService) {}

  @Post()
  @ApiOperation({ summary: 'Create a user with a username and an initial password' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiProblems('VALIDATION_FAILED', 'PASSWORD_POLICY_VIOLATION', 'USERNAME_TAKEN', 'EMAIL_TAKEN')
  async create(
    @Body() dto: CreateUserDto,
    @CurrentUser() me: Principal,
    @ClientIp() ip: string,
  ): Promise<UserDto> {
    return UserDto.from(await this.users.create(dto, { id: me.userId, ip }));
  }

  @Get()
  @ApiOperation({ summary: 'List users, optionally searching usernames and emails' })
  @ApiOkResponse({ type: UserPageDto })
  @ApiProblems('VALIDATION_FAILED')
  async list(@Query() query: ListUsersQueryDto): Promise<UserPageDto> {
    const { items, total } = await this.users.list(query);
    return {
      items: items.map((u) => UserDto.from(u)),
      total,
      page: query.page,
      pageSize: query.pageSize,
    };
  }

  @Get(':id')
  @ApiUserId()
  @ApiOperation({ summary: 'Get one user' })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems('USER_NOT_FOUND')
  async get(@UserId() id: string): Promise<UserDto> {
    return UserDto.from(await this.users.get(id));
  }

  @Patch(':id')
  @ApiUserId()
  @ApiOperation({
    summary: "Change a user's email, roles or disabled state (disabling ends every session)",
  })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems('VALIDATION_FAILED', 'USER_NOT_FOUND', 'EMAIL_TAKEN', 'SELF_LOCKOUT')
  async update(
    @UserId() id: string,
    @Body() dto: UpdateUserDto,
    @CurrentUser() me: Principal,
    @ClientIp() ip: string,
  ): Promise<UserDto> {
    return UserDto.from(await this.users.update(id, dto, { id: me.userId, ip }));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiUserId()
  @ApiOperation({ summary: 'Delete a user and every session of theirs' })
  @ApiNoContentResponse()
  @ApiProblems('USER_NOT_FOUND', {
    code: 'SELF_LOCKOUT',
    detail: 'You cannot delete your own account.',
  })
  async delete(
    @UserId() id: string,
    @CurrentUser() me: Principal,
    @ClientIp() ip: string,
  ): Promise<void> {
    await this.users.delete(id, { id: me.userId, ip });
  }

  @Delete(':id/two-factor')
  @HttpCode(204)
  @ApiUserId()
  @ApiOperation({
    summary: "Remove a user's authenticator and recovery codes (the user is told by mail)",
  })
  @ApiNoContentResponse()
  @ApiProblems('USER_NOT_FOUND')
  async resetTwoFactor(
    @UserId() id: string,
    @CurrentUser() me: Principal,
    @ClientIp() ip: string,
  ): Promise<void> {
    await this.users.resetTwoFactor(id, { id: me.userId, ip });
  }

  @Put(':id/password')
  @HttpCode(204)
  @ApiUserId()
  @ApiOperation({
    summary: "Set a user's password (temporary by default); every session of the user ends",
  })
  @ApiNoContentResponse()
  @ApiProblems('VALIDATION_FAILED', 'USER_NOT_FOUND', 'PASSWORD_POLICY_VIOLATION')
  async setPassword(
    @UserId() id: string,
    @Body() dto: AdminSetPasswordDto,
    @CurrentUser() me: Principal,
    @ClientIp() ip: string,
  ): Promise<void> {
    await this.users.setPassword(id, dto.password, dto.temporary ?? true, {
      id: me.userId,
      ip,
    });
  }
}
