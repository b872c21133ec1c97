import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createConfig, lintFromString, type NormalizedProblem } from '@redocly/openapi-core';
import type { Response } from 'supertest';
import { ErrorCode, type ErrorCodeName } from '../src/common/errors/app-error.js';
import { problemDocument } from '../src/common/errors/problem-details.filter.js';
import {
  bearer,
  createAdmin,
  createUser,
  login,
  type TestUser,
  type TokenPair,
} from './helpers/factories.js';
import { PUBLIC_URL } from './helpers/reset-flow.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
const METHODS: Method[] = ['get', 'post', 'put', 'patch', 'delete'];

interface Schema {
  type?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  $ref?: string;
}
interface Example {
  value: Record<string, unknown>;
}
interface Answer {
  description?: string;
  headers?: Record<string, { schema: Schema }>;
  content?: Record<string, { schema?: Schema; examples?: Record<string, Example> }>;
}
interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, Answer>;
}
interface Document {
  openapi: string;
  servers: { url: string; description?: string }[];
  paths: Record<string, Partial<Record<Method, Operation>>>;
  components: {
    schemas: Record<string, Schema>;
    securitySchemes: Record<string, { type: string; scheme?: string; description?: string }>;
  };
}

/** The routes that count attempts (AttemptLimiter.reserve), so answer 429 with Retry-After. */
const ATTEMPT_LIMITED = [
  'post /api/v1/auth/login',
  'post /api/v1/auth/login/two-factor',
  'post /api/v1/password-reset/requests',
  'post /api/v1/password-reset/two-factor/verify',
  'put /api/v1/me/password',
  'put /api/v1/me/email',
  'post /api/v1/me/email/pending/resend',
  'post /api/v1/me/email/verify',
  'post /api/v1/me/two-factor/setup',
  'post /api/v1/me/two-factor/enable',
  'delete /api/v1/me/two-factor',
];

function describeLintProblem(problem: NormalizedProblem): string {
  const where = problem.location.map((l) => l.pointer).join(', ');
  return `${problem.severity} ${problem.ruleId} at ${where}: ${problem.message}`;
}

function fieldErrors(res: Response, field: string): { field: string; rule?: string }[] {
  return ((res.body.errors ?? []) as { field: string; rule?: string }[]).filter(
    (e) => e.field === field,
  );
}

describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: Document;
  let admin: TestUser & { tokens: TokenPair };
  let user: TestUser & { tokens: TokenPair };

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => ({
        method,
        path,
        route: `${method} ${path}`,
        operation: item[method] as Operation,
      })),
    );
  const schemaOf = (schema: Schema): Schema =>
    schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop() as string] : schema;
  const needs = (operation: Operation): string[] =>
    (operation.security ?? []).flatMap((requirement) => Object.keys(requirement));

  beforeAll(async () => {
    t = await createTestApp();
    const res = await t.http().get('/docs-json');
    expect(res.status).toBe(200);
    doc = res.body as Document;
    admin = await createAdmin(t);
    const plain = await createUser(t);
    user = { ...plain, tokens: await login(t, plain.username, plain.password) };
  });

  afterAll(async () => {
    await t?.close();
  });

  /**
   * A request to a route, with `token` or else the access token the route needs (reset sessions
   * are not made here).
   */
  function call(method: Method, path: string, token?: string) {
    const req = t.http()[method](path.replace(/\{\w+\}/g, user.id));
    if (token) {
      void req.set(...bearer(token));
    } else if (path.startsWith('/api/v1/admin/') || path === '/api/v1/auth/introspect') {
      void req.set(...bearer(admin.tokens.accessToken));
    } else if (path.startsWith('/api/v1/me')) {
      void req.set(...bearer(user.tokens.accessToken));
    }
    return req;
  }

  it("passes Redocly's recommended rules without an error", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({
      source: JSON.stringify(doc),
      absoluteRef: `${PUBLIC_URL}/docs-json`,
      config,
    });
    const errors = problems.filter((p) => p.severity === 'error').map(describeLintProblem);
    expect(errors).toEqual([]);
    // The warnings left: routes that answer no 4xx of their own (health, JWKS, password policy).
    const warnings = problems.filter((p) => p.severity === 'warn');
    expect(
      warnings.filter((p) => p.ruleId !== 'operation-4xx-response').map(describeLintProblem),
    ).toEqual([]);
  });

  it('declares every security scheme a route names; the reset session is the reset token', () => {
    const undeclared = operations().flatMap(({ route, operation }) =>
      needs(operation)
        .filter((name) => !doc.components.securitySchemes[name])
        .map((name) => `${route}: ${name}`),
    );
    expect(undeclared).toEqual([]);
    expect(doc.components.securitySchemes['reset-session']).toEqual({
      type: 'http',
      scheme: 'bearer',
      description: expect.stringContaining('POST /api/v1/password-reset/sessions'),
    });
    const resetSteps = operations()
      .filter(({ operation }) => needs(operation).includes('reset-session'))
      .map(({ route }) => route);
    expect(resetSteps.sort()).toEqual([
      'post /api/v1/password-reset/password',
      'post /api/v1/password-reset/two-factor/setup',
      'post /api/v1/password-reset/two-factor/verify',
    ]);
  });

  it('marks every route open or secured as the server treats it', async () => {
    const wrong: string[] = [];
    for (const { method, path, route, operation } of operations()) {
      if (!operation.security) {
        wrong.push(`${route}: states no security`);
        continue;
      }
      const res = await t.http()[method](path.replace(/\{\w+\}/g, admin.id));
      const required = needs(operation);
      const expected = required.includes('reset-session')
        ? 'RESET_SESSION_INVALID'
        : required.includes('bearer')
          ? 'UNAUTHORIZED'
          : undefined;
      const answered = res.status === 401 ? (res.body.code as string) : undefined;
      if (answered !== expected) {
        wrong.push(`${route}: without a token ${res.status} ${answered ?? ''}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('documents 401 UNAUTHORIZED wherever a token is needed, and 403 PASSWORD_CHANGE_REQUIRED wherever a temporary password is refused', async () => {
    const temporary = await createUser(t, { temporaryPassword: true });
    const { accessToken } = await login(t, temporary.username, temporary.password);
    const wrong: string[] = [];
    for (const { method, path, route, operation } of operations()) {
      if (!needs(operation).includes('bearer')) {
        continue;
      }
      const codes = (status: string) =>
        Object.keys(
          operation.responses[status]?.content?.['application/problem+json']?.examples ?? {},
        );
      if (!codes('401').includes('UNAUTHORIZED')) {
        wrong.push(`${route}: no 401 UNAUTHORIZED`);
      }
      const res = await call(method, path, accessToken);
      if (res.body.code === 'PASSWORD_CHANGE_REQUIRED' && !codes('403').includes(res.body.code)) {
        wrong.push(`${route}: answers 403 PASSWORD_CHANGE_REQUIRED undocumented`);
      }
      if (
        res.body.code !== 'PASSWORD_CHANGE_REQUIRED' &&
        codes('403').includes('PASSWORD_CHANGE_REQUIRED')
      ) {
        wrong.push(`${route}: documents 403 PASSWORD_CHANGE_REQUIRED, answered ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('lists the relative server first, then PUBLIC_URL', () => {
    expect(doc.servers.map((s) => s.url)).toEqual(['/', PUBLIC_URL]);
  });

  it('gives every error answer problem+json examples with the five fields the filter writes', () => {
    const wrong: string[] = [];
    let examples = 0;
    for (const { route, operation } of operations()) {
      for (const [status, answer] of Object.entries(operation.responses)) {
        if (Number(status) < 400) {
          continue;
        }
        const content = answer.content?.['application/problem+json'];
        if (!content?.examples || content.schema?.$ref !== '#/components/schemas/Problem') {
          wrong.push(`${route} ${status}: not a documented problem answer`);
          continue;
        }
        for (const [name, { value }] of Object.entries(content.examples)) {
          examples += 1;
          const code = value.code as ErrorCodeName;
          const expected = {
            type: ErrorCode[code] ? problemDocument(code).type : '(a known code)',
            title: ErrorCode[code]?.title,
            status: Number(status),
            detail: expect.any(String),
            code: name,
          };
          try {
            expect(value).toEqual(expect.objectContaining(expected));
          } catch {
            wrong.push(`${route} ${status} ${name}: ${JSON.stringify(value)}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(examples).toBeGreaterThan(100);
    expect(doc.components.schemas.Problem.required).toEqual([
      'type',
      'title',
      'status',
      'detail',
      'code',
    ]);
    expect(Object.keys(doc.components.schemas.Problem.properties ?? {})).toEqual(
      expect.arrayContaining(['type', 'title', 'status', 'detail', 'code', 'errors']),
    );
  });

  it('documents 429 with Retry-After on every route that counts attempts, and only there', () => {
    const with429 = operations()
      .filter(({ operation }) => operation.responses['429'])
      .map(({ route }) => route);
    expect(with429.sort()).toEqual([...ATTEMPT_LIMITED].sort());
    for (const route of ATTEMPT_LIMITED) {
      const [method, path] = route.split(' ') as [Method, string];
      const answer = doc.paths[path][method]?.responses['429'];
      expect({ route, header: answer?.headers?.['Retry-After']?.schema.type }).toEqual({
        route,
        header: 'integer',
      });
    }
  });

  it('documents 413 and 415 on every route with a body, and 503 on readiness and every API route that needs the database', () => {
    const missing = operations()
      .filter(({ operation }) => operation.requestBody)
      .flatMap(({ route, operation }) =>
        ['413', '415'].filter((s) => !operation.responses[s]).map((s) => `${route} ${s}`),
      );
    expect(missing).toEqual([]);
    const without503 = operations()
      .filter(({ route }) => route.includes(' /api/') && !route.endsWith('/password-policy'))
      .filter(({ operation }) => !operation.responses['503'])
      .map(({ route }) => route);
    expect(without503).toEqual([]);
    const ready = doc.paths['/health/ready'].get?.responses['503'];
    expect(Object.keys(ready?.content?.['application/problem+json'].examples ?? {})).toEqual([
      'SERVICE_UNAVAILABLE',
    ]);
  });

  it('states the limits of the fields, the ids and the page parameters', () => {
    const { LoginDto, CreateUserDto, LoginTwoFactorDto, OpenResetDto } = doc.components.schemas;
    expect(LoginDto.properties?.username).toMatchObject({ minLength: 1, maxLength: 254 });
    expect(CreateUserDto.properties?.username).toMatchObject({
      minLength: 3,
      maxLength: 64,
      pattern: '^[A-Za-z0-9._-]{3,64}$',
    });
    expect(CreateUserDto.properties?.email).toMatchObject({ format: 'email', maxLength: 254 });
    expect(CreateUserDto.properties?.roles?.items).toMatchObject({
      maxLength: 32,
      pattern: expect.any(String),
    });
    expect(LoginTwoFactorDto.properties?.code).toMatchObject({ minLength: 1, maxLength: 64 });
    expect(OpenResetDto.properties?.token).toMatchObject({ minLength: 1, maxLength: 256 });
    const id = doc.paths['/api/v1/admin/users/{id}'].get?.parameters?.find((p) => p.name === 'id');
    expect(id?.schema).toMatchObject({ type: 'string', format: 'uuid' });
    const pageSize = doc.paths['/api/v1/admin/audit-events'].get?.parameters?.find(
      (p) => p.name === 'pageSize',
    );
    expect(pageSize?.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
  });

  it('bounds every string a request carries', () => {
    const unbounded: string[] = [];
    const bounded = (s: Schema) =>
      s.maxLength !== undefined || s.format === 'uuid' || s.enum !== undefined;
    for (const { route, operation } of operations()) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.schema.type === 'string' && !bounded(parameter.schema)) {
          unbounded.push(`${route} ${parameter.in} ${parameter.name}`);
        }
      }
      const body = operation.requestBody?.content['application/json']?.schema;
      for (const [name, property] of Object.entries(
        body ? (schemaOf(body).properties ?? {}) : {},
      )) {
        const strings = property.type === 'array' ? property.items : property;
        if (strings?.type === 'string' && !bounded(strings)) {
          unbounded.push(`${route} body ${name}`);
        }
      }
    }
    expect(unbounded).toEqual([]);
  });

  it('states the lengths the server enforces: one over is refused, the limit itself is not', async () => {
    // The reset steps need a live reset session; their fields use the same decorators as others.
    const wrong: string[] = [];
    let checked = 0;
    for (const { method, path, route, operation } of operations()) {
      if (needs(operation).includes('reset-session')) {
        continue;
      }
      const strings: { name: string; in: 'query' | 'body'; schema: Schema }[] = [
        ...(operation.parameters ?? [])
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, in: 'query' as const, schema: p.schema })),
        ...Object.entries(
          operation.requestBody
            ? (schemaOf(operation.requestBody.content['application/json'].schema).properties ?? {})
            : {},
        ).map(([name, schema]) => ({ name, in: 'body' as const, schema })),
      ].filter((f) => f.schema.type === 'string' && f.schema.maxLength !== undefined);
      for (const field of strings) {
        const { minLength = 0, maxLength = 0 } = field.schema;
        const send = (value: string) =>
          field.in === 'query'
            ? call(method, `${path}?${field.name}=${value}`)
            : call(method, path).send({ [field.name]: value });
        const label = `${route} ${field.name}`;
        checked += 1;
        const over = await send('a'.repeat(maxLength + 1));
        if (over.status !== 400 || fieldErrors(over, field.name).length === 0) {
          wrong.push(`${label} at ${maxLength + 1}: ${over.status} ${JSON.stringify(over.body)}`);
        }
        const at = await send('a'.repeat(maxLength));
        // (PASSWORD_POLICY_VIOLATION has a maxLength rule of its own: a different limit.)
        if (
          at.body.code === 'VALIDATION_FAILED' &&
          fieldErrors(at, field.name).some((e) => e.rule === 'maxLength')
        ) {
          wrong.push(`${label} at ${maxLength}: refused as too long`);
        }
        if (minLength > 0) {
          const under = await send('a'.repeat(minLength - 1));
          if (under.status !== 400 || fieldErrors(under, field.name).length === 0) {
            wrong.push(`${label} at ${minLength - 1}: ${under.status}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(20);
  });
});
