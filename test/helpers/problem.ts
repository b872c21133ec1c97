import { expect } from '@jest/globals';

/**
 * What must never reach a client: stack frames, SQL, driver, network and framework internals.
 * Case-insensitive, so a problem's own words must avoid them too (no "select" in a detail).
 */
export const LEAKS =
  /\bat .+\.(ts|js):\d+|node_modules|QueryFailedError|duplicate key|violates|constraint|users_\w+_key|SELECT |INSERT |UPDATE |\bstack\b|FST_|TypeORM|SyntaxError|Unexpected token|RangeError|URIError|ECONNREFUSED|Connection terminated/i;

/** An answer as supertest, rawHttp or burst hands it over. */
export interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: unknown;
}

/**
 * Asserts what a client of any failing call sees: an RFC 9457 problem document
 * (`application/problem+json`) with this status and stable `code`, its `type`, `title`,
 * `status` and `detail`, the headers of every answer (a request id, `no-store`), and nothing
 * internal in it.
 */
export function expectProblem(res: Answer, status: number, code: string): void {
  const body = res.body as Record<string, unknown> | undefined;
  // Status, type and code first and together: a failure shows all three at once.
  expect({
    status: res.status,
    contentType: res.headers['content-type'],
    code: body?.code,
  }).toEqual({ status, contentType: expect.stringMatching(/^application\/problem\+json/), code });
  expect(body).toEqual(
    expect.objectContaining({
      type: expect.stringMatching(/^https?:\/\//),
      title: expect.any(String),
      status,
      detail: expect.any(String),
      code,
    }),
  );
  expect(code).toMatch(/^[A-Z]+(_[A-Z]+)*$/);
  expect(res.headers['x-request-id']).toEqual(expect.any(String));
  expect(res.headers['cache-control']).toBe('no-store');
  expect(JSON.stringify(body)).not.toMatch(LEAKS);
}
