import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import {
  bearer,
  createAdmin,
  createUser,
  login,
  strongPassword,
  type TestUser,
  type TokenPair,
  uniqueName,
} from './helpers/factories.js';
import { MetricsService } from '../src/metrics/metrics.service.js';
import { rawHttp, type RawResponse } from './helpers/raw-http.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { expectProblem, LEAKS } from './helpers/problem.js';

type Answer = Pick<Response, 'status' | 'headers' | 'body'> | RawResponse;

function fieldsOf(res: Answer): string[] {
  const errors = ((res.body as { errors?: { field: string }[] }).errors ?? []).map((e) => e.field);
  return [...new Set(errors)];
}

/** `levels` arrays inside each other: `[[[…]]]`. */
function nestedArrays(levels: number): string {
  return '['.repeat(levels) + ']'.repeat(levels);
}

describe('bad input is always a 4xx problem document', () => {
  let t: TestApp;
  let admin: TestUser & { tokens: TokenPair };

  beforeAll(async () => {
    t = await createTestApp();
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const asAdmin = (res: ReturnType<ReturnType<TestApp['http']>['get']>) =>
    res.set(...bearer(admin.tokens.accessToken));
  const postJson = (path: string, text: string) =>
    t.http().post(path).set('content-type', 'application/json').send(text);
  const createAsAdmin = (body: Record<string, unknown>) =>
    asAdmin(t.http().post('/api/v1/admin/users')).send(body);
  const patchAsAdmin = (id: string, body: Record<string, unknown>) =>
    asAdmin(t.http().patch(`/api/v1/admin/users/${id}`)).send(body);
  const getUser = (id: string) => asAdmin(t.http().get(`/api/v1/admin/users/${id}`));
  const usersNamed = async (username: string) =>
    (await asAdmin(t.http().get('/api/v1/admin/users')).query({ search: username })).body
      .total as number;

  describe('JSON nesting', () => {
    it('refuses a body nested 33 levels deep with 400 MALFORMED_REQUEST', async () => {
      const res = await postJson(
        '/api/v1/auth/login',
        `{"username":${nestedArrays(32)},"password":"x"}`,
      );
      expectProblem(res, 400, 'MALFORMED_REQUEST');
      expect(res.body.detail).toMatch(/32 levels/);
    });

    it('refuses the 1,300-level body that overflowed the stack, on a route that needs a token too', async () => {
      const deep = nestedArrays(1300);
      expectProblem(
        await postJson('/api/v1/auth/login', `{"username":${deep},"password":"x"}`),
        400,
        'MALFORMED_REQUEST',
      );
      const user = await createUser(t);
      const patch = await asAdmin(t.http().patch(`/api/v1/admin/users/${user.id}`))
        .set('content-type', 'application/json')
        .send(`{"roles":${deep}}`);
      expectProblem(patch, 400, 'MALFORMED_REQUEST');
      expect(patch.body.detail).toMatch(/32 levels/);
    });

    it('reads a body nested exactly 32 levels deep and validates its fields', async () => {
      const res = await postJson(
        '/api/v1/auth/login',
        `{"username":${nestedArrays(31)},"password":"x"}`,
      );
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['username']);
    });

    it('does not count brackets inside strings', async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/login')
        .send({ username: '['.repeat(100), password: '{'.repeat(100) });
      expectProblem(res, 401, 'INVALID_CREDENTIALS');
    });
  });

  describe('strings that are not well-formed Unicode', () => {
    it('refuses a lone surrogate in an email with 400 VALIDATION_FAILED naming it, and stores nothing', async () => {
      const username = uniqueName('surrogate');
      const res = await createAsAdmin({
        username,
        password: strongPassword(),
        email: 'a\ud800@example.com',
      });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['email']);
      expect(await usersNamed(username)).toBe(0);
    });

    it.each(['\ud800', '\udfff', 'abc\udbffdef'])(
      'never hashes a password holding %j: sign-in, password change and admin reset refuse it',
      async (surrogate) => {
        const user = await createUser(t);
        const signIn = await t
          .http()
          .post('/api/v1/auth/login')
          .send({ username: user.username, password: `${user.password}${surrogate}` });
        expectProblem(signIn, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(signIn)).toEqual(['password']);

        const tokens = await login(t, user.username, user.password);
        const change = await t
          .http()
          .put('/api/v1/me/password')
          .set(...bearer(tokens.accessToken))
          .send({ currentPassword: user.password, newPassword: `Tr0ub4dor & ${surrogate}1x` });
        expectProblem(change, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(change)).toEqual(['newPassword']);

        const byAdmin = await asAdmin(t.http().put(`/api/v1/admin/users/${user.id}/password`)).send(
          {
            password: `Tr0ub4dor & ${surrogate}2y`,
          },
        );
        expectProblem(byAdmin, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(byAdmin)).toEqual(['password']);

        // Nothing changed: the old password still signs in.
        await login(t, user.username, user.password);
      },
    );

    it('refuses "\\ud800" and "\\udfff" alike, so they can never stand for the same password', async () => {
      const username = uniqueName('pair');
      for (const surrogate of ['\ud800', '\udfff']) {
        const res = await createAsAdmin({ username, password: `Tr0ub4dor & x${surrogate}` });
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(res)).toEqual(['password']);
      }
      expect(await usersNamed(username)).toBe(0);
    });

    it('accepts text with characters outside the BMP (well-formed surrogate pairs)', async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/login')
        .send({ username: 'nobody-😀', password: 'pass 😀 word' });
      expectProblem(res, 401, 'INVALID_CREDENTIALS');
    });

    it('refuses a lone surrogate in the key of an unknown field', async () => {
      const res = await postJson(
        '/api/v1/auth/login',
        '{"username":"a","password":"b","\\ud800":1}',
      );
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });
  });

  describe('null', () => {
    it.each([
      ['roles', { roles: null }],
      ['disabled', { disabled: null }],
    ])(
      'refuses %s: null in an admin PATCH with 400 VALIDATION_FAILED and changes nothing',
      async (field, body) => {
        const user = await createUser(t, { roles: ['auditor'] });
        const res = await patchAsAdmin(user.id, body);
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(res.body.errors).toEqual([
          { field, rule: 'notNull', message: `${field} must not be null` },
        ]);
        expect((await getUser(user.id)).body).toMatchObject({
          roles: ['auditor'],
          disabled: false,
        });
      },
    );

    it('lists every offending field in one answer, whichever rule each breaks', async () => {
      const user = await createUser(t);
      const res = await patchAsAdmin(user.id, {
        roles: null,
        disabled: 'yes',
        toString: 1,
        email: 'a\ud800@example.com',
      });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res).sort()).toEqual(['disabled', 'email', 'roles', 'toString']);
    });

    it('still unbinds the email with email: null, as documented', async () => {
      const user = await createUser(t);
      const res = await patchAsAdmin(user.id, { email: null });
      expect(res.status).toBe(200);
      expect(res.body.email).toBeNull();
    });

    it.each([
      ['/api/v1/auth/login', { username: null, password: 'x' }, 'username'],
      ['/api/v1/auth/refresh', { refreshToken: null }, 'refreshToken'],
    ])('refuses null for a required field of %s', async (path, body, field) => {
      const res = await t.http().post(path).send(body);
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual([field]);
    });

    it('refuses null for fields of a new user that are not nullable', async () => {
      const res = await createAsAdmin({
        username: uniqueName('nulls'),
        password: strongPassword(),
        email: null,
        roles: null,
        temporaryPassword: null,
      });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res).sort()).toEqual(['email', 'roles', 'temporaryPassword']);
    });
  });

  describe('the Authorization header', () => {
    it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])(
      'accepts the scheme name %s',
      async (scheme) => {
        const res = await t
          .http()
          .get('/api/v1/me')
          .set('authorization', `${scheme} ${admin.tokens.accessToken}`);
        expect(res.status).toBe(200);
        expect(res.body.id).toBe(admin.id);
      },
    );

    it('still refuses other schemes', async () => {
      const res = await t
        .http()
        .get('/api/v1/me')
        .set('authorization', `Basic ${admin.tokens.accessToken}`);
      expectProblem(res, 401, 'UNAUTHORIZED');
    });
  });

  describe("the framework's own refusals", () => {
    it.each(['/api/v1/%', '/api/v1/admin/users/%E0%A4%A', '/api/v1/me/%ZZ', '/%c0%ae%c0%ae/'])(
      'answers the undecodable URL %s with 400 MALFORMED_REQUEST',
      async (path) => {
        expectProblem(await t.http().get(path), 400, 'MALFORMED_REQUEST');
      },
    );

    it('answers a path parameter over 100 characters with 414 URI_TOO_LONG, and one of 100 as usual', async () => {
      expectProblem(await getUser('a'.repeat(101)), 414, 'URI_TOO_LONG');
      expectProblem(await getUser('a'.repeat(100)), 404, 'USER_NOT_FOUND');
    });

    it('counts the refused URLs in the request metrics, as every other answer', async () => {
      await t.http().get('/api/v1/%25%');
      await getUser('b'.repeat(101));
      const text = await t.app.get(MetricsService).render();
      expect(text).toMatch(/route="unmatched",status="400"\} [1-9]/);
      expect(text).toMatch(/route="unmatched",status="414"\} [1-9]/);
    });

    it('answers a request that is not valid HTTP with 400 MALFORMED_REQUEST', async () => {
      const res = await rawHttp(
        t.url,
        'GET /api/v1/me HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n',
      );
      expectProblem(res, 400, 'MALFORMED_REQUEST');
    });

    it('answers headers over the size limit with 431 HEADERS_TOO_LARGE', async () => {
      const res = await rawHttp(
        t.url,
        `GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Padding: ${'p'.repeat(20_000)}\r\n\r\n`,
      );
      expectProblem(res, 431, 'HEADERS_TOO_LARGE');
    });

    it.each([
      ['a Content-Length that is not a number', 'Content-Length: ten\r\n'],
      [
        'both Content-Length and chunked encoding',
        'Content-Length: 2\r\nTransfer-Encoding: chunked\r\n',
      ],
    ])('answers %s with 400 MALFORMED_REQUEST', async (_name, headers) => {
      const res = await rawHttp(
        t.url,
        `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${headers}\r\n{}`,
      );
      expectProblem(res, 400, 'MALFORMED_REQUEST');
    });

    it('answers a JSON body in UTF-16 with 400 MALFORMED_REQUEST', async () => {
      const body = Buffer.from('{"username":"a","password":"b"}', 'utf16le');
      const head =
        'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n' +
        `Content-Type: application/json; charset=utf-16le\r\nContent-Length: ${body.length}\r\n\r\n`;
      const res = await rawHttp(t.url, Buffer.concat([Buffer.from(head), body]));
      expectProblem(res, 400, 'MALFORMED_REQUEST');
    });

    it.each(['/', 'application/json/x', 'application/jsonx', 'text/json'])(
      'answers the content type %j with 415 UNSUPPORTED_MEDIA_TYPE',
      async (type) => {
        const res = await t.http().post('/api/v1/auth/login').set('content-type', type).send('{}');
        expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      },
    );

    it.each([
      ['an unknown route', 'get', '/api/v1/nothing'],
      ['a method the route does not have', 'put', '/api/v1/auth/login'],
      ['an unknown route outside the API', 'delete', '/nothing'],
    ] as const)('answers %s with 404 NOT_FOUND', async (_name, method, path) => {
      expectProblem(await t.http()[method](path), 404, 'NOT_FOUND');
    });
  });

  describe('prototype keys and inherited names', () => {
    it.each([
      ['__proto__', '{"username":"a","password":"b","__proto__":{"isAdmin":true}}'],
      [
        'constructor',
        '{"username":"a","password":"b","constructor":{"prototype":{"isAdmin":true}}}',
      ],
      ['__proto__', '{"username":"a","password":"b","\\u005f_proto__":{"isAdmin":true}}'],
    ])(
      'refuses %s in a JSON body as an unknown field, and pollutes nothing',
      async (field, text) => {
        const res = await postJson('/api/v1/auth/login', text);
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(res.body.errors).toEqual([
          { field, rule: 'whitelistValidation', message: `${field} is not an accepted field` },
        ]);
        // The app runs in this process: Object.prototype is the one it would have polluted.
        expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      },
    );

    it('refuses a nested __proto__ with its path', async () => {
      const user = await createUser(t);
      const res = await asAdmin(t.http().patch(`/api/v1/admin/users/${user.id}`))
        .set('content-type', 'application/json')
        .send('{"roles":[{"__proto__":{"x":1}}]}');
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['roles.0.__proto__']);
    });

    it.each(['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'prototype'])(
      'refuses %s as an unknown field of a body and of a query',
      async (key) => {
        const body = await t
          .http()
          .post('/api/v1/auth/login')
          .send({ username: 'a', password: 'b', [key]: 'x' });
        expectProblem(body, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(body)).toEqual([key]);

        const query = await asAdmin(t.http().get(`/api/v1/admin/users?${key}=x`));
        expectProblem(query, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(query)).toEqual([key]);
      },
    );

    it('refuses __proto__ in a query string as an unknown field', async () => {
      const res = await asAdmin(t.http().get('/api/v1/admin/users?__proto__[isAdmin]=1'));
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    });
  });

  describe('query integers', () => {
    it.each(['0x10', '1e3', '1.0', '+1', '-1', ' 1', '1 ', '0', '', '1_0', '1000001', 'Infinity'])(
      'refuses page=%j with 400 VALIDATION_FAILED naming page',
      async (page) => {
        const res = await asAdmin(
          t.http().get(`/api/v1/admin/users?page=${encodeURIComponent(page)}`),
        );
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(res)).toEqual(['page']);
      },
    );

    it.each(['0x10', '1e1', '101'])('refuses pageSize=%j', async (pageSize) => {
      const res = await asAdmin(t.http().get(`/api/v1/admin/audit-events?pageSize=${pageSize}`));
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['pageSize']);
    });

    it('refuses a repeated page parameter', async () => {
      const res = await asAdmin(t.http().get('/api/v1/admin/users?page=1&page=2'));
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['page']);
    });

    it('reads plain decimal digits, leading zeros included', async () => {
      const res = await asAdmin(t.http().get('/api/v1/admin/users?page=002&pageSize=100'));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ page: 2, pageSize: 100 });
    });
  });

  describe('emails and sign-in names', () => {
    const BAD_EMAILS: [string, string][] = [
      ['CR LF', 'a\r\nbcc@example.com'],
      ['a quoted CR LF', '"a\r\nb"@example.com'],
      ['a right-to-left override', 'moc.elpmaxe\u202e@evil.com'],
      ['a left-to-right isolate', 'a\u2066b@example.com'],
      ['a zero-width space', 'ad\u200bmin@example.com'],
      ['U+0000', 'nul\u0000@example.com'],
      ['a fullwidth letter', '\uff41@example.com'],
      ['a fullwidth at sign', 'a\uff20example.com'],
      ['a fullwidth letter in the domain', 'a@\uff45xample.com'],
      ['a no-break space', 'a\u00a0b@example.com'],
    ];

    it.each(BAD_EMAILS)(
      'refuses an email with %s when an admin creates a user',
      async (_name, email) => {
        const username = uniqueName('mail');
        const res = await createAsAdmin({ username, password: strongPassword(), email });
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(res)).toEqual(['email']);
        expect(await usersNamed(username)).toBe(0);
      },
    );

    it.each(BAD_EMAILS)(
      'refuses an email with %s in an admin PATCH and in the personal center',
      async (_name, email) => {
        const user = await createUser(t);
        const patch = await patchAsAdmin(user.id, { email });
        expectProblem(patch, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(patch)).toEqual(['email']);

        const tokens = await login(t, user.username, user.password);
        const own = await t
          .http()
          .put('/api/v1/me/email')
          .set(...bearer(tokens.accessToken))
          .send({ email, currentPassword: user.password });
        expectProblem(own, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(own)).toEqual(['email']);

        expect((await getUser(user.id)).body.email).toBe(user.email);
      },
    );

    it('still accepts an internationalised address', async () => {
      const username = uniqueName('intl');
      const res = await createAsAdmin({
        username,
        password: strongPassword(),
        email: `${username}.josé@exämple.com`,
      });
      expect(res.status).toBe(201);
      expect(res.body.email).toBe(`${username}.josé@exämple.com`);
    });

    it.each([
      ['U+0000', 'ali\u0000ce'],
      ['CR LF', 'alice\r\n'],
      ['a right-to-left override', 'ecila\u202e'],
      ['a zero-width joiner', 'ali\u200dce'],
    ])('refuses a sign-in name or reset identifier with %s', async (_name, name) => {
      const signIn = await t
        .http()
        .post('/api/v1/auth/login')
        .send({ username: name, password: 'x' });
      expectProblem(signIn, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(signIn)).toEqual(['username']);

      const reset = await t
        .http()
        .post('/api/v1/password-reset/requests')
        .send({ identifier: name });
      expectProblem(reset, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(reset)).toEqual(['identifier']);

      const created = await createAsAdmin({ username: name, password: strongPassword() });
      expectProblem(created, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(created)).toEqual(['username']);
    });
  });

  describe('every documented route', () => {
    interface Operation {
      method: 'get' | 'post' | 'put' | 'patch' | 'delete';
      path: string;
      fields: { name: string; nullable: boolean }[];
      hasBody: boolean;
      query: string[];
    }
    let operations: Operation[];
    let target: TestUser;
    let user: TestUser & { tokens: TokenPair };

    beforeAll(async () => {
      const doc = (await t.http().get('/docs-json')).body as {
        paths: Record<string, Record<string, Record<string, unknown>>>;
        components: {
          schemas: Record<string, { properties?: Record<string, { nullable?: boolean }> }>;
        };
      };
      operations = Object.entries(doc.paths).flatMap(([path, item]) =>
        (['get', 'post', 'put', 'patch', 'delete'] as const)
          .filter((method) => item[method])
          .map((method) => {
            const operation = item[method] as {
              requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
              parameters?: { in: string; name: string }[];
            };
            const ref = operation.requestBody?.content['application/json']?.schema.$ref;
            const schema = ref ? doc.components.schemas[ref.split('/').pop() as string] : undefined;
            return {
              method,
              path,
              hasBody: Boolean(operation.requestBody),
              fields: Object.entries(schema?.properties ?? {}).map(([name, property]) => ({
                name,
                nullable: property.nullable === true,
              })),
              query: (operation.parameters ?? [])
                .filter((p) => p.in === 'query')
                .map((p) => p.name),
            };
          }),
      );
      target = await createUser(t);
      const plain = await createUser(t);
      user = { ...plain, tokens: await login(t, plain.username, plain.password) };
    });

    /** The route with its ids filled in, and the token it needs. */
    function call(operation: Operation, path = operation.path.replace(/\{\w+\}/g, target.id)) {
      const req = t.http()[operation.method](path);
      if (
        operation.path.startsWith('/api/v1/admin/') ||
        operation.path === '/api/v1/auth/introspect'
      ) {
        void req.set(...bearer(admin.tokens.accessToken));
      } else if (operation.path.startsWith('/api/v1/me')) {
        void req.set(...bearer(user.tokens.accessToken));
      }
      return req;
    }
    /** The reset steps answer 401 to anyone without a reset session, before reading the body. */
    const needsResetSession = (operation: Operation) =>
      /^\/api\/v1\/password-reset\/(two-factor|password)/.test(operation.path);

    function describeAnswer(label: string, res: Response): string | undefined {
      if (res.status >= 500) {
        return `${label}: ${res.status} ${res.text.slice(0, 200)}`;
      }
      if (
        res.status >= 400 &&
        !/^application\/problem\+json/.test(res.headers['content-type'] ?? '')
      ) {
        return `${label}: ${res.status} with ${res.headers['content-type']}`;
      }
      if (res.status >= 400 && LEAKS.test(res.text)) {
        return `${label}: leaks ${res.text.slice(0, 200)}`;
      }
      return undefined;
    }

    it('names each field that holds a hostile value, and never answers 5xx', async () => {
      const hostile: [string, unknown][] = [
        ['null', null],
        ['a lone surrogate', '\ud800'],
        ['an object', { a: 1 }],
        ['a fraction', 1.5],
      ];
      const bodies = operations.filter((o) => o.fields.length > 0);
      expect(bodies.length).toBeGreaterThanOrEqual(12);
      const wrong: string[] = [];
      for (const operation of bodies) {
        for (const field of operation.fields) {
          for (const [name, value] of hostile) {
            if (value === null && field.nullable) {
              continue;
            }
            const label = `${operation.method.toUpperCase()} ${operation.path} ${field.name}=${name}`;
            const res = await call(operation).send({ [field.name]: value });
            const problem = describeAnswer(label, res);
            if (problem) {
              wrong.push(problem);
            } else if (needsResetSession(operation)) {
              if (res.body.code !== 'RESET_SESSION_INVALID') {
                wrong.push(`${label}: ${res.status} ${res.body.code}`);
              }
            } else if (
              res.body.code !== 'VALIDATION_FAILED' ||
              !fieldsOf(res).includes(field.name)
            ) {
              wrong.push(
                `${label}: ${res.status} ${res.body.code} ${JSON.stringify(fieldsOf(res))}`,
              );
            }
          }
        }
      }
      expect(wrong).toEqual([]);
    });

    it('answers hostile whole bodies with 4xx problem documents', async () => {
      const bodies = [
        'null',
        '[]',
        '"text"',
        '42',
        'true',
        '{"__proto__":{"isAdmin":true}}',
        '{"constructor":{"prototype":{"isAdmin":true}}}',
        '{"toString":"x","valueOf":"y"}',
        `{"x":${nestedArrays(1300)}}`,
        '{"a":',
        '\ufeff{}',
      ];
      const wrong: string[] = [];
      for (const operation of operations.filter(
        (o) => o.method !== 'get' && o.method !== 'delete',
      )) {
        for (const text of bodies) {
          const label = `${operation.method.toUpperCase()} ${operation.path} ${text.slice(0, 40)}`;
          const res = await call(operation).set('content-type', 'application/json').send(text);
          const problem = describeAnswer(label, res);
          if (problem) {
            wrong.push(problem);
          } else if (
            // Refused while the body is read, whatever the route.
            /__proto__|constructor/.test(text) &&
            res.status !== 400 &&
            !needsResetSession(operation)
          ) {
            wrong.push(`${label}: ${res.status}`);
          } else if (
            // Refused by the route's own schema, where it reads a body.
            /toString/.test(text) &&
            operation.hasBody &&
            res.status !== 400 &&
            !needsResetSession(operation)
          ) {
            wrong.push(`${label}: ${res.status}`);
          }
        }
      }
      expect(wrong).toEqual([]);
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    });

    it('answers hostile query and path parameters with 4xx problem documents', async () => {
      const values = [
        '0x10',
        '1e3',
        '',
        ' ',
        '%',
        '%00',
        '%ED%A0%80',
        '\u202e',
        'a'.repeat(300),
        '[]',
      ];
      const wrong: string[] = [];
      for (const operation of operations) {
        for (const name of operation.query) {
          for (const value of values) {
            const label = `${operation.method.toUpperCase()} ${operation.path}?${name}=${value.slice(0, 20)}`;
            const encoded = /^%/.test(value) ? value : encodeURIComponent(value);
            const res = await call(operation, `${operation.path}?${name}=${encoded}`);
            const problem = describeAnswer(label, res);
            if (problem) {
              wrong.push(problem);
            }
          }
        }
        if (operation.path.includes('{') && operation.method !== 'delete') {
          for (const value of [
            '%',
            '%E0%A4%A',
            'a'.repeat(101),
            '%00',
            '..%2F..',
            '%E2%80%AE',
            'null',
          ]) {
            const label = `${operation.method.toUpperCase()} ${operation.path} with ${value.slice(0, 20)}`;
            const res = await call(operation, operation.path.replace(/\{\w+\}/g, value)).send({});
            const problem =
              describeAnswer(label, res) ??
              (res.status < 400 ? `${label}: ${res.status}` : undefined);
            if (problem) {
              wrong.push(problem);
            }
          }
        }
      }
      expect(wrong).toEqual([]);
    });
  });

  describe('the OpenAPI document', () => {
    let doc: {
      info: { description: string };
      paths: Record<
        string,
        Record<
          string,
          {
            responses: Record<string, { description?: string }>;
            requestBody?: unknown;
            parameters?: { name: string; schema: Record<string, unknown> }[];
          }
        >
      >;
      components: {
        schemas: Record<string, { properties: Record<string, Record<string, unknown>> }>;
      };
    };
    beforeAll(async () => {
      doc = (await t.http().get('/docs-json')).body;
    });

    it('states the request rules: nesting, well-formed strings, null, URL limits, caching', () => {
      expect(doc.info.description).toEqual(
        expect.stringMatching(
          /32 levels[\s\S]*MALFORMED_REQUEST[\s\S]*well-formed Unicode[\s\S]*414 URI_TOO_LONG[\s\S]*no-store/,
        ),
      );
    });

    it('lists every stable code, the new ones included, in the Problem schema', () => {
      const description = doc.components.schemas.Problem.properties.code.description as string;
      for (const code of [
        'MALFORMED_REQUEST',
        'VALIDATION_FAILED',
        'URI_TOO_LONG',
        'HEADERS_TOO_LARGE',
        'REQUEST_TIMEOUT',
      ]) {
        expect(description).toContain(code);
      }
    });

    it('documents 414 URI_TOO_LONG on every route with a path parameter and MALFORMED_REQUEST on every route with a body', () => {
      const missing: string[] = [];
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const [method, operation] of Object.entries(item)) {
          if (
            path.includes('{') &&
            !operation.responses['414']?.description?.includes('URI_TOO_LONG')
          ) {
            missing.push(`${method} ${path} 414`);
          }
          if (
            operation.requestBody &&
            !operation.responses['400']?.description?.includes('MALFORMED_REQUEST')
          ) {
            missing.push(`${method} ${path} 400`);
          }
        }
      }
      expect(missing).toEqual([]);
    });

    it('states the character rules of emails and sign-in names, and which fields are nullable', () => {
      const { CreateUserDto, UpdateUserDto, LoginDto, ResetRequestDto } = doc.components.schemas;
      expect(CreateUserDto.properties.email.description).toMatch(/fullwidth/);
      expect(CreateUserDto.properties.email.nullable).toBeUndefined();
      expect(UpdateUserDto.properties.email).toMatchObject({
        nullable: true,
        description: expect.stringMatching(/bidi/),
      });
      expect(UpdateUserDto.properties.roles.nullable).toBeUndefined();
      expect(LoginDto.properties.username.description).toMatch(/control/);
      expect(ResetRequestDto.properties.identifier.description).toMatch(/control/);
    });

    it('bounds the query integers', () => {
      const params = doc.paths['/api/v1/admin/users'].get.parameters ?? [];
      expect(params.find((p) => p.name === 'page')?.schema).toMatchObject({
        type: 'integer',
        minimum: 1,
        maximum: 1_000_000,
      });
      expect(params.find((p) => p.name === 'pageSize')?.schema).toMatchObject({
        type: 'integer',
        minimum: 1,
        maximum: 100,
      });
    });
  });
});
