import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import {
  bearer,
  createAdmin,
  strongPassword,
  type TestUser,
  type TokenPair,
  uniqueName,
} from './helpers/factories.js';
import { isPagePath } from '../src/pages/pages.setup.js';
import { isOidcProtocolPath } from '../src/oidc/oidc.setup.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { expectProblem } from './helpers/problem.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function fieldsOf(res: Response): string[] {
  return [...new Set(((res.body.errors ?? []) as { field: string }[]).map((e) => e.field))];
}

type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';

/** The routes of the contract that this build serves; `public` routes need no token. */
const CONTRACT_ROUTES: { method: Method; path: string; public: boolean }[] = [
  { method: 'post', path: '/api/v1/auth/login', public: true },
  { method: 'post', path: '/api/v1/auth/refresh', public: true },
  { method: 'post', path: '/api/v1/auth/logout', public: true },
  { method: 'post', path: '/api/v1/auth/introspect', public: false },
  { method: 'get', path: '/.well-known/jwks.json', public: true },
  { method: 'get', path: '/api/v1/me', public: false },
  { method: 'put', path: '/api/v1/me/email', public: false },
  { method: 'post', path: '/api/v1/me/email/verify', public: true },
  { method: 'put', path: '/api/v1/me/password', public: false },
  { method: 'post', path: '/api/v1/admin/users', public: false },
  { method: 'get', path: '/api/v1/admin/users', public: false },
  { method: 'get', path: '/api/v1/admin/users/{id}', public: false },
  { method: 'patch', path: '/api/v1/admin/users/{id}', public: false },
  { method: 'delete', path: '/api/v1/admin/users/{id}', public: false },
  { method: 'put', path: '/api/v1/admin/users/{id}/password', public: false },
  { method: 'get', path: '/api/v1/admin/audit-events', public: false },
  { method: 'get', path: '/api/v1/password-policy', public: true },
  { method: 'get', path: '/health/live', public: true },
  { method: 'get', path: '/health/ready', public: true },
];

/**
 * Every method and path the HTTP server answers, read from Fastify's route tree
 * (`printRoutes({ commonPrefix: false })`: one node per line, four characters per level).
 * HEAD routes Fastify adds by itself are left out.
 */
function servedRoutes(t: TestApp): Set<string> {
  const tree = t.app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false });
  const paths: string[] = [];
  const routes = new Set<string>();
  for (const line of tree.split('\n')) {
    const match = /^((?:│ {3}| {4})*)(?:├── |└── )(.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) {
      continue;
    }
    const depth = match[1].length / 4;
    paths.length = depth;
    const path = (depth > 0 ? paths[depth - 1] : '') + match[2];
    paths.push(path);
    for (const method of (match[3] ?? '').split(', ').filter(Boolean)) {
      if (method !== 'HEAD') {
        routes.add(`${method} ${path}`);
      }
    }
  }
  return routes;
}

describe('errors, operations and the API description', () => {
  let t: TestApp;
  let admin: TestUser & { tokens: TokenPair };

  beforeAll(async () => {
    t = await createTestApp();
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('problem documents', () => {
    it('answers malformed JSON with 400 MALFORMED_REQUEST', async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/login')
        .set('content-type', 'application/json')
        .send('{"username": "alice", "password": ');
      expectProblem(res, 400, 'MALFORMED_REQUEST');
    });

    it('answers a body over 64 KiB with 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/login')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ username: 'alice', password: 'p'.repeat(65 * 1024) }));
      expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('reads a body just under 64 KiB and validates it', async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/login')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ username: 'alice', password: 'p'.repeat(60 * 1024) }));
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['password']);
    });

    it.each([
      'text/plain',
      'application/xml',
      'application/octet-stream',
      // Form bodies are parsed for the hosted pages only.
      'application/x-www-form-urlencoded',
    ])('answers a %s body on a JSON route with 415 UNSUPPORTED_MEDIA_TYPE', async (contentType) => {
      const res = await t
        .http()
        .post('/api/v1/admin/users')
        .set(...bearer(admin.tokens.accessToken))
        .set('content-type', contentType)
        .send('<user><username>alice</username></user>');
      expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers over-long string fields with 400 VALIDATION_FAILED listing each field', async () => {
      const res = await t
        .http()
        .post('/api/v1/admin/users')
        .set(...bearer(admin.tokens.accessToken))
        .send({
          username: 'u'.repeat(300),
          password: 'p'.repeat(2000),
          email: `${'e'.repeat(300)}@example.com`,
        });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res).sort()).toEqual(['email', 'password', 'username']);
      for (const error of res.body.errors as Record<string, unknown>[]) {
        expect(error).toEqual({
          field: expect.any(String),
          message: expect.any(String),
          rule: expect.any(String),
        });
      }
    });

    it('answers an over-long query parameter with 400 VALIDATION_FAILED naming it', async () => {
      const res = await t
        .http()
        .get('/api/v1/admin/users')
        .query({ search: 's'.repeat(300) })
        .set(...bearer(admin.tokens.accessToken));
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['search']);
    });

    it.each(['/no/such/route', '/api/v1/nothing-here', '/api/v2/me'])(
      'answers the unknown route %s with 404 NOT_FOUND',
      async (path) => {
        expectProblem(await t.http().get(path), 404, 'NOT_FOUND');
      },
    );

    it('answers a missing token with 401 UNAUTHORIZED', async () => {
      expectProblem(await t.http().get('/api/v1/me'), 401, 'UNAUTHORIZED');
    });

    it('answers a duplicate username with 409 USERNAME_TAKEN and nothing from the database', async () => {
      const username = uniqueName('dup');
      const create = () =>
        t
          .http()
          .post('/api/v1/admin/users')
          .set(...bearer(admin.tokens.accessToken))
          .send({ username, password: strongPassword() });
      expect((await create()).status).toBe(201);
      expectProblem(await create(), 409, 'USERNAME_TAKEN');
    });

    it('answers a sign-in name holding U+0000 with 400 VALIDATION_FAILED, not with a server error', async () => {
      // No account can have such a name: control characters are refused in every identifier.
      for (const username of ['ali\u0000ce', 'ali\u0000ce@example.com']) {
        const res = await t
          .http()
          .post('/api/v1/auth/login')
          .send({ username, password: strongPassword() });
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(res)).toEqual(['username']);
      }
    });

    it('finds nobody for a search holding U+0000 instead of failing', async () => {
      const res = await t
        .http()
        .get('/api/v1/admin/users')
        .query({ search: 'ad\u0000min' })
        .set(...bearer(admin.tokens.accessToken));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ items: [], total: 0 });
    });

    it('answers an email holding U+0000 with 400 VALIDATION_FAILED', async () => {
      const res = await t
        .http()
        .post('/api/v1/admin/users')
        .set(...bearer(admin.tokens.accessToken))
        .send({
          username: uniqueName('nul'),
          password: strongPassword(),
          email: 'nul\u0000@example.com',
        });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['email']);
    });

    it('tags every answer with a fresh x-request-id, errors included', async () => {
      const answers = await Promise.all([
        t.http().get('/health/live'),
        t.http().get('/no/such/route'),
        t.http().post('/api/v1/auth/login').set('content-type', 'application/json').send('{'),
      ]);
      const ids = answers.map((res) => res.headers['x-request-id']);
      for (const id of ids) {
        expect(id).toMatch(UUID);
      }
      expect(new Set(ids).size).toBe(ids.length);
    });
  });

  describe('health', () => {
    it('answers liveness without a token', async () => {
      const res = await t.http().get('/health/live');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('answers readiness with the database and migrations checked', async () => {
      const res = await t.http().get('/health/ready');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        status: 'ok',
        checks: { database: 'up', migrations: 'applied' },
      });
    });
  });

  describe('the OpenAPI document', () => {
    let doc: {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { required?: string[] }> };
    };
    beforeAll(async () => {
      const res = await t.http().get('/docs-json');
      expect(res.status).toBe(200);
      doc = res.body;
    });

    /** Open routes say so with `security: []`; the others name the token they need. */
    const needsToken = (operation: unknown) =>
      ((operation as { security?: unknown[] }).security ?? []).length > 0;

    const documented = () =>
      Object.entries(doc.paths).flatMap(([path, operations]) =>
        Object.keys(operations)
          .filter((key) => ['get', 'post', 'put', 'patch', 'delete'].includes(key))
          .map((method) => `${method.toUpperCase()} ${path}`),
      );

    it('is an OpenAPI 3 document listing every route of the contract', () => {
      expect(doc.openapi).toMatch(/^3\./);
      const missing = CONTRACT_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`).filter(
        (route) => !documented().includes(route),
      );
      expect(missing).toEqual([]);
    });

    it('documents every route the server answers, apart from the docs and the hosted pages', () => {
      const served = [...servedRoutes(t)]
        .filter((route) => !/^[A-Z]+ \/docs/.test(route))
        // The hosted HTML pages (CONTRACT.md "Hosted pages") are not part of the JSON API.
        .filter((route) => !isPagePath(route.split(' ')[1]))
        // The OpenID Provider's endpoints are described by its discovery document.
        .filter((route) => !isOidcProtocolPath(route.split(' ')[1]))
        .map((route) => route.replace(/:(\w+)/g, '{$1}'));
      // The parser must have found the routes at all.
      expect(served).toContain('GET /api/v1/admin/users/{id}');
      expect(served.sort()).toEqual(documented().sort());
    });

    it('documents a 401 problem answer for every route that needs a token', () => {
      const secured = Object.entries(doc.paths).flatMap(([path, operations]) =>
        Object.entries(operations)
          .filter(([, operation]) => needsToken(operation))
          .map(([method, operation]) => ({ route: `${method} ${path}`, operation })),
      );
      expect(secured.length).toBeGreaterThanOrEqual(
        CONTRACT_ROUTES.filter((r) => !r.public).length,
      );
      for (const { route, operation } of secured) {
        expect({ route, problem401: JSON.stringify(operation.responses['401'] ?? null) }).toEqual({
          route,
          problem401: expect.stringContaining('#/components/schemas/Problem'),
        });
      }
    });

    it('marks the routes of the contract that need a token, and only those, as bearer-secured', () => {
      for (const route of CONTRACT_ROUTES) {
        const operation = doc.paths[route.path][route.method];
        expect({
          route: `${route.method} ${route.path}`,
          secured: needsToken(operation),
        }).toEqual({ route: `${route.method} ${route.path}`, secured: !route.public });
      }
    });

    it('answers each route that needs a token with 401 when called without one', async () => {
      for (const route of CONTRACT_ROUTES.filter((r) => !r.public)) {
        const path = route.path.replace('{id}', admin.id);
        const res = await t.http()[route.method](path);
        expect({
          route: `${route.method} ${path}`,
          status: res.status,
          code: res.body.code,
        }).toEqual({ route: `${route.method} ${path}`, status: 401, code: 'UNAUTHORIZED' });
      }
    });

    it('defines the Problem schema of RFC 9457 with a stable code', () => {
      const problem = doc.components.schemas.Problem;
      expect(problem).toBeDefined();
      expect(problem.required).toEqual(
        expect.arrayContaining(['type', 'title', 'status', 'detail', 'code']),
      );
    });

    it('serves the interactive documentation as HTML at /docs', async () => {
      const res = await t.http().get('/docs');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toMatch(/<html/i);
      expect(res.text).toMatch(/swagger/i);
    });
  });
});
