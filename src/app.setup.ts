import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  answerClientError,
  answerFrameworkError,
  MAX_PATH_PARAMETER_LENGTH,
  observeFrameworkAnswers,
} from './common/errors/framework-errors.js';
import { proxyTrust } from './common/proxy-trust.js';
import { createValidationPipe } from './common/errors/validation.js';
import {
  documentOpenRoutes,
  documentRequestProblems,
  problemSchema,
  requestRules,
} from './common/openapi.js';
import { parseJsonBody } from './common/validation/json-body.js';
import type { Settings } from './config/settings.js';
import { AppLogger } from './logging/app-logger.js';
import { levelWrites } from './logging/logging.module.js';
import { requestIdGenerator } from './logging/request-id.js';
import { MetricsService } from './metrics/metrics.service.js';
import { configureOidc } from './oidc/oidc.setup.js';
import { configurePages } from './pages/pages.setup.js';

/**
 * Options for NestFactory.create: logs are held until configureApp hands Nest the pino logger;
 * a failed start is thrown to the caller (which says why and exits 1) rather than aborting the
 * process; body parsing is left to configureApp (Nest's own parsers would also accept form
 * bodies and refuse an empty JSON body).
 */
export function appOptions(): { bufferLogs: true; abortOnError: false; bodyParser: false } {
  return { bufferLogs: true, abortOnError: false, bodyParser: false };
}

export function createAdapter(settings: Settings): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: settings.http.bodyLimitBytes,
    trustProxy: proxyTrust(settings.http.trustProxy),
    genReqId: requestIdGenerator(settings.http.trustProxy),
    // Never log request bodies or query strings: they may hold passwords or tokens.
    logger: false,
    routerOptions: { maxParamLength: MAX_PATH_PARAMETER_LENGTH },
    // What the router and Node's HTTP parser refuse before any hook runs: problem documents too.
    // (This replaces Nest's own frameworkErrors, which only adds app.useSecurityHeaders() headers.)
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
}

/** Everything that makes the app the app, shared by main.ts and the test harness. */
export function configureApp(app: NestFastifyApplication, settings: Settings): void {
  const logger = app.get(AppLogger);
  app.useLogger(logger);
  app.useGlobalPipes(createValidationPipe());
  const fastify = app.getHttpAdapter().getInstance();
  // The API speaks JSON only; any other body answers 415 UNSUPPORTED_MEDIA_TYPE. An empty JSON
  // body counts as no body, so `POST …/setup` with a JSON content type and nothing else works.
  // parseJsonBody refuses nesting deeper than 32 levels and prototype keys (`__proto__`).
  fastify.removeContentTypeParser('text/plain');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    (_request, body, done) => {
      if (body === '') {
        done(null, undefined);
        return;
      }
      try {
        done(null, parseJsonBody(body as string));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
  // The hosted pages: cookies, views, helmet, and form bodies on page routes only.
  configurePages(app);
  // The OpenID Provider: discovery at the root, its endpoints under /oidc (after the pages: it
  // renders their templates).
  configureOidc(app, settings);
  // Answers carry tokens, secrets, QR codes and recovery codes: nothing is stored by a browser or a
  // proxy unless the route says otherwise (the JWKS, the pages' stylesheet).
  fastify.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-request-id', request.id);
    if (!reply.hasHeader('cache-control')) {
      void reply.header('cache-control', 'no-store');
    }
    done(null, payload);
  });
  // One log line per request: the route template only, never the query string or body.
  // Health probes (every few seconds from an orchestrator) are logged at debug. The line is not
  // even built when the level would drop it (LOG_LEVEL=warn or error under load).
  const metrics = app.get(MetricsService);
  const requestLines = levelWrites(settings.log.level, 'info');
  const probeLines = levelWrites(settings.log.level, 'debug');
  const observe = (request: FastifyRequest, reply: FastifyReply): void => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.observeRequest(request.method, route, status, reply.elapsedTime / 1000);
    const probe = route.startsWith('/health/');
    if (!(probe ? probeLines : requestLines)) {
      return;
    }
    const ms = Math.round(reply.elapsedTime * 10) / 10;
    const line = {
      msg: `${request.method} ${route} ${status} ${ms} ms`,
      requestId: request.id,
      method: request.method,
      route,
      status,
      ms,
      ip: request.ip,
    };
    if (probe) {
      logger.debug(line, 'Http');
    } else {
      logger.log(line, 'Http');
    }
  };
  fastify.addHook('onResponse', (request, reply, done) => {
    observe(request, reply);
    done();
  });
  observeFrameworkAnswers(fastify, observe);
  // The OpenAPI document is built on the first request for /docs or /docs-json, not at start:
  // building it walks every route and DTO, and most instances are never asked for it.
  SwaggerModule.setup('docs', app, () => openApiDocument(app, settings), {
    jsonDocumentUrl: 'docs-json',
  });
}

/** The OpenAPI document of every API route, with the problem documents each can answer. */
function openApiDocument(app: NestFastifyApplication, settings: Settings): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Portcullis')
      .setDescription(
        'Identity service: users, sign-in with ES256 JWTs (verify them with /.well-known/jwks.json), ' +
          'personal center and admin API. Every error is an RFC 9457 problem document with a stable `code`.\n\n' +
          requestRules(settings.http.bodyLimitBytes),
      )
      .setVersion('0.1.0')
      .setLicense('MIT', 'https://opensource.org/licenses/MIT')
      // Relative first: "Try it out" then calls the host the document was loaded from, whatever
      // name it was reached by; PUBLIC_URL second, for clients generated from a saved copy.
      .addServer('/', 'the host that serves this document')
      .addServer(settings.http.publicUrl, 'PUBLIC_URL')
      .addBearerAuth({
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'An access token: the accessToken of a sign-in (POST /api/v1/auth/login, …/login/two-factor) ' +
          'or of POST /api/v1/auth/refresh.',
      })
      // addSecurity, not addBearerAuth, which would call the opaque reset token a JWT.
      .addSecurity('reset-session', {
        type: 'http',
        scheme: 'bearer',
        description:
          'A password reset session: the opaque resetToken answered by ' +
          'POST /api/v1/password-reset/sessions (opening the emailed link). It works only for the ' +
          'reset steps, in their order.',
      })
      .addBasicAuth(
        {
          type: 'http',
          scheme: 'basic',
          description:
            'An OpenID Connect client: its client_id and client_secret (POST /api/v1/admin/clients).',
        },
        'client',
      )
      .build(),
  );
  documentRequestProblems(document);
  documentOpenRoutes(document);
  document.components ??= {};
  document.components.schemas = { ...document.components.schemas, Problem: problemSchema() };
  return document;
}
