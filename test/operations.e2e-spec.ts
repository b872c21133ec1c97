import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('operations', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('exposes Prometheus metrics, with requests counted by route template', async () => {
    await t.http().get('/health/live').expect(200);
    await t.http().get('/api/v1/admin/users/0b7a4c4e-0000-4000-8000-000000000000').expect(401);
    const res = await t.http().get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toMatch(
      /portcullis_http_request_duration_seconds_count\{method="GET",route="\/health\/live",status="200"\} [1-9]/,
    );
    // The route template, never the concrete path with its id.
    expect(res.text).toContain('route="/api/v1/admin/users/:id",status="401"');
    expect(res.text).not.toContain('0b7a4c4e-0000');
    expect(res.text).toMatch(/portcullis_process_resident_memory_bytes \d+/);
  });

  it('lists /metrics in the OpenAPI document', async () => {
    const res = await t.http().get('/docs-json');
    expect(Object.keys(res.body.paths as object)).toContain('/metrics');
  });
});
