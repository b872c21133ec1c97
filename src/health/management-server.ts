import {
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import Fastify, { type FastifyInstance } from 'fastify';
import { AppError } from '../common/errors/app-error.js';
import { problemDocument } from '../common/errors/problem-details.filter.js';
import type { Settings } from '../config/settings.js';
import { AppLogger } from '../logging/app-logger.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { HealthService } from './health.service.js';

/**
 * The operators' listener on MANAGEMENT_PORT (0 = off): /health/live, /health/ready and
 * /metrics, which never appears on the public port. A bare Fastify: no auth, no pages, no
 * API, nothing a user needs, so it can stay inside the cluster network.
 */
@Injectable()
export class ManagementServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private server?: FastifyInstance;

  constructor(
    private readonly config: ConfigService<Settings, true>,
    private readonly health: HealthService,
    private readonly metrics: MetricsService,
    private readonly logger: AppLogger,
  ) {}

  /** Where it listens, once started (`undefined` when MANAGEMENT_PORT=0). */
  address(): { host: string; port: number } | undefined {
    const info = this.server?.server.address();
    return info && typeof info === 'object' ? { host: info.address, port: info.port } : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { port, host } = this.config.get('management', { infer: true });
    if (port === 0) {
      return;
    }
    const server = Fastify({ logger: false, bodyLimit: 1024 });
    server.get('/health/live', () => ({ status: 'ok' }));
    server.get('/health/ready', async (_request, reply) => {
      try {
        return await this.health.readiness();
      } catch (error) {
        const problem =
          error instanceof AppError
            ? problemDocument(error.code, error.detail)
            : problemDocument('SERVICE_UNAVAILABLE');
        return reply.status(problem.status).type('application/problem+json').send(problem);
      }
    });
    server.get('/metrics', async (_request, reply) =>
      reply
        .type('text/plain; version=0.0.4; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(await this.metrics.render()),
    );
    server.setNotFoundHandler((_request, reply) => {
      const problem = problemDocument('NOT_FOUND', 'This port serves /health/* and /metrics.');
      return reply.status(404).type('application/problem+json').send(problem);
    });
    await server.listen({ port, host });
    this.server = server;
    this.logger.debug(`management endpoints (health, metrics) on ${host}:${port}`, 'Management');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.close();
  }
}
