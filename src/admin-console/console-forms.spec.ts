import { describe, expect, it } from '@jest/globals';
import { CreateUserDto } from '../users/dto/create-user.dto.js';
import { ListUsersQueryDto } from '../users/dto/list-users.dto.js';
import { UpdateUserDto } from '../users/dto/update-user.dto.js';
import {
  clientChangesInput,
  lines,
  newUserInput,
  queryInput,
  userChangesInput,
  validated,
  words,
} from './console-forms.js';
import { pager } from './console-views.service.js';

describe('console forms', () => {
  it('reads roles typed with commas or spaces, each once', () => {
    expect(words(' admin, support  admin\nauditor,')).toEqual(['admin', 'support', 'auditor']);
    expect(words('')).toEqual([]);
  });

  it('reads URIs one per line, blank lines ignored', () => {
    expect(lines('https://a.example/cb\r\n\r\n  https://b.example/cb  \n')).toEqual([
      'https://a.example/cb',
      'https://b.example/cb',
    ]);
  });

  it('turns the create-user form into what the admin API takes (an unticked box is false)', () => {
    expect(
      newUserInput({ username: ' ada ', password: ' p w ', email: '', roles: 'admin' }),
    ).toEqual({ username: 'ada', password: ' p w ', roles: ['admin'], temporaryPassword: false });
    expect(
      newUserInput({
        username: 'ada',
        password: 'x',
        email: 'ada@example.com',
        temporaryPassword: '1',
      }),
    ).toMatchObject({ email: 'ada@example.com', emailVerified: false, temporaryPassword: true });
  });

  it('unbinds the email when the field is emptied, and sends no verified flag without one', () => {
    expect(userChangesInput({ email: '  ', roles: '' })).toEqual({ email: null, roles: [] });
    expect(userChangesInput({ email: 'a@example.com', emailVerified: '1' })).toEqual({
      email: 'a@example.com',
      emailVerified: true,
      roles: [],
    });
  });

  it('reads the language choice: none is no change, the empty choice is null', async () => {
    expect(userChangesInput({ email: '', roles: '' })).not.toHaveProperty('locale');
    expect(userChangesInput({ email: '', roles: '', locale: '' }).locale).toBeNull();
    expect(newUserInput({ username: 'ada', password: 'x', locale: 'zh-CN' }).locale).toBe('zh-CN');
    for (const locale of ['xx', ['en', 'zh-CN']]) {
      await expect(
        validated(UpdateUserDto, userChangesInput({ email: '', locale })),
      ).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [expect.objectContaining({ field: 'locale' })],
      });
    }
  });

  it('keeps a repeated field repeated, so the API rule refuses it', async () => {
    expect(clientChangesInput({ name: ['a', 'b'] }).name).toBe('');
    await expect(
      validated(ListUsersQueryDto, queryInput({ page: ['1', '2'], other: 'x' }, ['page']), 'query'),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it("checks a form with the API's own DTO and names each bad field", async () => {
    await expect(
      validated(CreateUserDto, newUserInput({ username: '<b>', password: '' })),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: expect.arrayContaining([
        expect.objectContaining({ field: 'username' }),
        expect.objectContaining({ field: 'password' }),
      ]),
    });
  });
});

describe('pager', () => {
  it('links the pages around this one, keeping the filters', () => {
    expect(pager('/admin/users', { search: 'a b', pageSize: undefined }, 2, 20, 45)).toEqual({
      page: 2,
      lastPage: 3,
      total: 45,
      previous: '/admin/users?search=a+b',
      next: '/admin/users?search=a+b&page=3',
    });
    expect(pager('/admin/audit', {}, 1, 20, 0)).toMatchObject({
      lastPage: 1,
      previous: null,
      next: null,
    });
  });
});
