/**
 * Whether an error means a service we depend on (the database, Redis) cannot be reached right
 * now, rather than that our code or a request is wrong. Such errors answer
 * `503 SERVICE_UNAVAILABLE` (with Retry-After), never `500`: the caller may try again, and the
 * service recovers by itself when the dependency is back.
 */
export type Dependency = 'database' | 'redis';

/** Network failures of a socket, whoever owns it. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs of an unavailable server: class 08 (connection exception), 57P01-57P03
 * (shut down by the administrator, crash, cannot connect now), 53300 (too many connections),
 * 57014 (canceled by our statement_timeout): all of them pass when retried later.
 */
function isUnavailableSqlState(code: string): boolean {
  return (
    code.startsWith('08') ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '53300' ||
    code === '57014'
  );
}

/** node-postgres' own words for a connection it lost or could not make in time. */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Connection terminated due to connection timeout',
  'Query read timeout',
];

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  driverError?: unknown;
  errors?: unknown;
  cause?: unknown;
}

export function unavailableDependency(error: unknown, depth = 0): Dependency | null {
  if (!error || typeof error !== 'object' || depth > 4) {
    return null;
  }
  const e = error as ErrorLike;
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  const code = typeof e.code === 'string' ? e.code : '';
  if (name === 'MaxRetriesPerRequestError' || message === 'Connection is closed.') {
    return 'redis'; // ioredis: Redis is down or unreachable
  }
  if (e.driverError) {
    return unavailableDependency(e.driverError, depth + 1) ?? null; // TypeORM's QueryFailedError
  }
  if (/^[0-9A-Z]{5}$/.test(code) && isUnavailableSqlState(code)) {
    return 'database';
  }
  if (PG_CONNECTION_MESSAGES.some((m) => message.startsWith(m))) {
    return 'database';
  }
  if (NETWORK_CODES.has(code)) {
    // A socket error without an owner's mark: ioredis marks its own (see above), so this is pg.
    return 'database';
  }
  if (Array.isArray(e.errors)) {
    // AggregateError: every address of a host refused the connection.
    const [first] = e.errors as unknown[];
    return unavailableDependency(first, depth + 1);
  }
  return unavailableDependency(e.cause, depth + 1);
}
