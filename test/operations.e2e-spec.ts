import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ManagementServer } from '../src/health/management-server.js';
import { freePort } from './helpers/service-process.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { expectProblem } from './helpers/problem.js';

describe('operations', () => {
  let t: TestApp;
  let management: string;
  beforeAll(async () => {
    t = await createTestApp({ MANAGEMENT_PORT: String(await freePort()) });
    const address = t.app.get(ManagementServer).address();
    management = `http://127.0.0.1:${address?.port}`;
  });
  afterAll(async () => {
    await t.close();
  });

  it('exposes Prometheus metrics on the management port, with requests counted by route template', async () => {
    await t.http().get('/health/live').expect(200);
    await t.http().get('/api/v1/admin/users/0b7a4c4e-0000-4000-8000-000000000000').expect(401);
    const res = await fetch(`${management}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(
      /portcullis_http_request_duration_seconds_count\{method="GET",route="\/health\/live",status="200"\} [1-9]/,
    );
    // The route template, never the concrete path with its id.
    expect(text).toContain('route="/api/v1/admin/users/:id",status="401"');
    expect(text).not.toContain('0b7a4c4e-0000');
    expect(text).toMatch(/portcullis_process_resident_memory_bytes \d+/);
  });

  it('does not serve /metrics on the public port, nor list it in the OpenAPI document', async () => {
    const res = await t.http().get('/metrics');
    expectProblem(res, 404, 'NOT_FOUND');
    const spec = await t.http().get('/docs-json');
    expect(Object.keys(spec.body.paths as object)).not.toContain('/metrics');
  });

  it('answers health on both ports', async () => {
    for (const base of [t.url, management]) {
      const live = await fetch(`${base}/health/live`);
      expect(live.status).toBe(200);
      const ready = await fetch(`${base}/health/ready`);
      expect(await ready.json()).toEqual({
        status: 'ok',
        checks: { database: 'up', migrations: 'applied' },
      });
    }
  });

  it('generates a request id for every answer and ignores one sent by an untrusted client', async () => {
    const res = await t.http().get('/health/live').set('X-Request-Id', 'from-the-client');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const other = await t.http().get('/health/live');
    expect(other.headers['x-request-id']).not.toBe(res.headers['x-request-id']);
  });
});

describe('behind a trusted proxy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: '127.0.0.1' });
  });
  afterAll(async () => {
    await t.close();
  });

  it("echoes the proxy's X-Request-Id", async () => {
    const res = await t.http().get('/api/v1/me').set('X-Request-Id', 'lb-4f2a.17');
    expect(res.status).toBe(401);
    expect(res.headers['x-request-id']).toBe('lb-4f2a.17');
  });

  it('replaces an id that could forge a log line', async () => {
    const res = await t.http().get('/health/live').set('X-Request-Id', 'a b\tc');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
