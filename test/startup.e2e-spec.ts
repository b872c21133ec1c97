import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jsonLines, MAIN, type ServiceProcess, startService } from './helpers/service-process.js';
import { expectProblem } from './helpers/problem.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('the built service, started as an operator starts it', () => {
  let service: ServiceProcess;
  let exitCode: number | null;
  beforeAll(async () => {
    service = await startService({ LOG_FORMAT: 'json', LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    if (service.child.exitCode === null) {
      await service.stop();
    }
  });

  it('prints the generated first-admin password in a box right before the listening line', () => {
    const lines = service.stdout().split('\n');
    const boxEnd = lines.findIndex((line) => line.includes('└'));
    expect(lines.slice(0, boxEnd).join('\n')).toMatch(/│ {3}password: \S{20,}/);
    const after = lines.slice(boxEnd + 1).filter((line) => line.trim() !== '');
    expect(JSON.parse(after[0] ?? '{}')).toMatchObject({
      level: 'info',
      msg: expect.stringMatching(/^listening on 127\.0\.0\.1:\d+/),
    });
  });

  it('keeps the framework start-up lines out of the info log', () => {
    const contexts = jsonLines(service.stdout()).map((line) => line.context);
    for (const framework of ['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer']) {
      expect(contexts).not.toContain(framework);
    }
    expect(jsonLines(service.stdout()).length).toBeLessThan(15);
  });

  it('writes one JSON line per request with its id, route template, status and duration', async () => {
    const res = await fetch(`${service.url}/api/v1/admin/users/some-id`, {
      headers: { 'x-request-id': 'chosen-by-the-client' },
    });
    expect(res.status).toBe(401);
    const id = res.headers.get('x-request-id') ?? '';
    // Not a trusted proxy: the caller's id is ignored and a new one generated.
    expect(id).toMatch(UUID);
    await new Promise((done) => setTimeout(done, 100));
    const lines = jsonLines(service.stdout()).filter((line) => line.requestId === id);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        context: 'Http',
        method: 'GET',
        route: '/api/v1/admin/users/:id',
        status: 401,
        ms: expect.any(Number),
      }),
    ]);
    expect(service.stdout()).not.toContain('some-id');
  });

  it('serves metrics on the management port only, beside health', async () => {
    const metrics = await fetch(`${service.managementUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('portcullis_http_request_duration_seconds_count');
    const live = await fetch(`${service.managementUrl}/health/live`);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${service.managementUrl}/health/ready`);
    expect(await ready.json()).toEqual({
      status: 'ok',
      checks: { database: 'up', migrations: 'applied' },
    });
    const publicMetrics = await fetch(`${service.url}/metrics`);
    expectProblem(
      {
        status: publicMetrics.status,
        headers: Object.fromEntries(publicMetrics.headers),
        body: await publicMetrics.json(),
      },
      404,
      'NOT_FOUND',
    );
    const elsewhere = await fetch(`${service.managementUrl}/api/v1/me`);
    expect(elsewhere.status).toBe(404);
    expect(await elsewhere.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('drains and exits 0 on SIGTERM', async () => {
    exitCode = await service.stop();
    expect(exitCode).toBe(0);
    expect(service.stderr()).toBe('');
  });
});

describe('memory after a burst', () => {
  const memoryLines = (service: ServiceProcess) =>
    jsonLines(service.stdout()).filter((line) => line.context === 'Memory');

  it('is given back once the service has been idle for MEMORY_TRIM_AFTER_IDLE, and never with 0', async () => {
    const debug = { LOG_FORMAT: 'json', LOG_LEVEL: 'debug' };
    const [trimming, keeping] = await Promise.all([
      startService({ ...debug, MEMORY_TRIM_AFTER_IDLE: '1s' }),
      startService({ ...debug, MEMORY_TRIM_AFTER_IDLE: '0' }),
    ]);
    try {
      // Start-up leaves garbage behind: the first idle second after it is already worth a trim.
      const deadline = Date.now() + 15_000;
      while (memoryLines(trimming).length === 0 && Date.now() < deadline) {
        await new Promise((done) => setTimeout(done, 100));
      }
      const [line] = memoryLines(trimming);
      const [, before, after] =
        /^idle: gave memory back, resident (\d+) → (\d+) MiB in \d+ ms$/.exec(String(line?.msg)) ??
        [];
      expect(Number(after)).toBeGreaterThan(0);
      expect(Number(after)).toBeLessThan(Number(before));
      expect(memoryLines(keeping)).toEqual([]);
      // Still serving, and idle again: no second trim without new growth.
      expect((await fetch(`${trimming.url}/health/live`)).status).toBe(200);
      await new Promise((done) => setTimeout(done, 2_000));
      expect(memoryLines(trimming)).toHaveLength(1);
      expect(memoryLines(keeping)).toEqual([]);
    } finally {
      await Promise.all([trimming.stop(), keeping.stop()]);
    }
  });
});

describe('a bad setting', () => {
  it('names the real problem and exits 2 before anything starts', () => {
    const run = spawnSync(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, PORT: 'abc', MANAGEMENT_PORT: '0' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      'Portcullis cannot start. Invalid settings:\n' +
        '  - PORT: PORT must be an integer from 0 to 65535, got "abc"\n',
    );
  });
});
