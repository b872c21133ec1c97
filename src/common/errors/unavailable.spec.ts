import { describe, expect, it } from '@jest/globals';
import { unavailableDependency } from './unavailable.js';

function withProps(message: string, props: Record<string, unknown>): Error {
  return Object.assign(new Error(message), props);
}

describe('unavailableDependency', () => {
  it.each([
    [
      'a refused connection',
      withProps('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' }),
    ],
    ['a lost connection', new Error('Connection terminated unexpectedly')],
    ['a connect timeout', new Error('timeout exceeded when trying to connect')],
    ['a server shutting down (57P01)', withProps('terminating connection', { code: '57P01' })],
    ['too many connections (53300)', withProps('sorry, too many clients', { code: '53300' })],
    ['our statement timeout (57014)', withProps('canceling statement', { code: '57014' })],
    [
      "TypeORM's QueryFailedError around one",
      withProps('query failed', { driverError: withProps('x', { code: '08006' }) }),
    ],
    [
      'every address of a host refusing',
      withProps('', { errors: [withProps('connect ECONNREFUSED ::1', { code: 'ECONNREFUSED' })] }),
    ],
  ])('calls %s the database', (_what, error) => {
    expect(unavailableDependency(error)).toBe('database');
  });

  it('recognises Redis being away (ioredis)', () => {
    expect(
      unavailableDependency(
        withProps('Reached the max retries', { name: 'MaxRetriesPerRequestError' }),
      ),
    ).toBe('redis');
    expect(unavailableDependency(new Error('Connection is closed.'))).toBe('redis');
  });

  it.each([
    ['a unique violation', withProps('duplicate key', { code: '23505' })],
    ['a syntax error', withProps('syntax error', { code: '42601' })],
    ['a plain bug', new TypeError('undefined is not a function')],
    ['nothing at all', undefined],
  ])('does not call %s an outage', (_what, error) => {
    expect(unavailableDependency(error)).toBeNull();
  });
});
