import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PRODUCT_NAME } from './page-renderer.js';

/** An unexpected error on a page: logged with the request id, answered with a plain page. */
@Catch()
export class PagesExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Pages');

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    this.logger.error({
      msg: 'unhandled error on a page',
      requestId: request.id,
      route: request.routeOptions?.url,
      error:
        exception instanceof Error
          ? { name: exception.name, message: exception.message, stack: exception.stack }
          : String(exception),
    });
    if (reply.sent) {
      return;
    }
    void reply
      .status(500)
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${PRODUCT_NAME}</title><link rel="stylesheet" href="/assets/app.css"></head>` +
          `<body><main class="card"><h1>Something went wrong</h1><p>Please try again in a moment. Reference: ${request.id}</p><p><a href="/account">Back to your account</a></p></main></body></html>`,
      );
  }
}
