import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ErrorCode, type ErrorCodeName, type FieldProblem } from './app-error.js';
import { type Dependency, unavailableDependency } from './unavailable.js';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldProblem[];
  requestId?: string;
}

/** Fastify's own errors (body parsing, size, URL) carry a FST_ code and a status. */
export interface FastifyLikeError {
  code: string;
  statusCode: number;
  message: string;
}

export function isFastifyError(e: unknown): e is FastifyLikeError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as FastifyLikeError).code === 'string' &&
    (e as FastifyLikeError).code.startsWith('FST_') &&
    typeof (e as FastifyLikeError).statusCode === 'number'
  );
}

const STATUS_CODES: Partial<Record<number, ErrorCodeName>> = {
  [HttpStatus.BAD_REQUEST]: 'MALFORMED_REQUEST',
  [HttpStatus.UNAUTHORIZED]: 'UNAUTHORIZED',
  [HttpStatus.FORBIDDEN]: 'FORBIDDEN',
  [HttpStatus.NOT_FOUND]: 'NOT_FOUND',
  [HttpStatus.METHOD_NOT_ALLOWED]: 'METHOD_NOT_ALLOWED',
  [HttpStatus.REQUEST_TIMEOUT]: 'REQUEST_TIMEOUT',
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'PAYLOAD_TOO_LARGE',
  [HttpStatus.URI_TOO_LONG]: 'URI_TOO_LONG',
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: 'UNSUPPORTED_MEDIA_TYPE',
  [HttpStatus.TOO_MANY_REQUESTS]: 'TOO_MANY_ATTEMPTS',
  431: 'HEADERS_TOO_LARGE',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'SERVICE_UNAVAILABLE',
};

/** Messages we write ourselves for framework errors, so nothing internal leaks. */
const FRIENDLY_DETAIL: Partial<Record<ErrorCodeName, string>> = {
  MALFORMED_REQUEST: 'The request could not be read.',
  PAYLOAD_TOO_LARGE: 'The request body exceeds the size limit.',
  URI_TOO_LONG: 'A part of the URL is too long.',
  UNSUPPORTED_MEDIA_TYPE: 'Send the request body as application/json.',
  NOT_FOUND: 'There is nothing at this address.',
  UNAUTHORIZED: 'A valid access token is required.',
  FORBIDDEN: 'You are not allowed to do this.',
};

/** Fastify's errors that say more than their status, in our words. */
const FRAMEWORK_DETAIL: Partial<Record<string, string>> = {
  FST_ERR_BAD_URL: 'The URL is not valid: a percent-encoded part of it does not decode.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The request body does not match its Content-Length.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Send the request body as application/json.',
};

/** The problem document for an error of the framework with a 4xx status, or undefined. */
export function frameworkProblem(
  status: number,
  frameworkCode?: string,
): ProblemDocument | undefined {
  const code = STATUS_CODES[status];
  if (!code || status >= 500) {
    return undefined;
  }
  return problemDocument(
    code,
    (frameworkCode && FRAMEWORK_DETAIL[frameworkCode]) ?? FRIENDLY_DETAIL[code],
  );
}

/** An unexpected error as the log shows it: its name, message and stack (never to a client). */
export function errorForLog(
  exception: unknown,
): { name: string; message: string; stack?: string } | string {
  return exception instanceof Error
    ? { name: exception.name, message: exception.message, stack: exception.stack }
    : String(exception);
}

/** The RFC 9457 document for one of our codes. */
export function problemDocument(
  code: ErrorCodeName,
  detail?: string,
  errors?: FieldProblem[],
): ProblemDocument {
  const { status, title } = ErrorCode[code];
  return {
    type: `https://portcullis.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title,
    status,
    detail: detail ?? title,
    code,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

/** How long a client should wait before retrying while a dependency is unavailable. */
const RETRY_AFTER_SECONDS = 5;
const OUTAGE_LOG_INTERVAL_MS = 10_000;

/**
 * The one exception filter: every error leaves as an RFC 9457 problem document with a stable
 * `code`. Unexpected errors are logged with the request id and answered with a bare 500.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  /** When an unavailable dependency was last logged, so an outage logs once per interval. */
  private readonly lastOutageLog = new Map<Dependency, number>();

  catch(caught: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const exception = this.unavailable(caught) ?? caught;
    const problem = this.toProblem(exception, request);
    if (exception instanceof AppError && exception.headers) {
      void reply.headers(exception.headers);
    }
    void reply
      .status(problem.status)
      .header('content-type', 'application/problem+json')
      .send(problem);
  }

  /**
   * The database or Redis cannot be reached: 503 with Retry-After, never 500, and one warning
   * per dependency every OUTAGE_LOG_INTERVAL_MS rather than one per request.
   */
  private unavailable(exception: unknown): AppError | undefined {
    const dependency = unavailableDependency(exception);
    if (!dependency) {
      return undefined;
    }
    const now = Date.now();
    if (now - (this.lastOutageLog.get(dependency) ?? 0) >= OUTAGE_LOG_INTERVAL_MS) {
      this.lastOutageLog.set(dependency, now);
      this.logger.warn(
        `${dependency === 'redis' ? 'Redis' : 'the database'} cannot be reached; answering 503 ` +
          `until it is back (${exception instanceof Error ? exception.message : String(exception)})`,
      );
    }
    return new AppError(
      'SERVICE_UNAVAILABLE',
      dependency === 'redis'
        ? 'Sign-in and other limited attempts are paused: the attempt counters cannot be reached. Try again shortly.'
        : 'The database cannot be reached right now. Try again shortly.',
      { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } },
    );
  }

  toProblem(exception: unknown, request: FastifyRequest): ProblemDocument {
    if (exception instanceof AppError) {
      return {
        ...problemDocument(exception.code, exception.detail, exception.errors),
        status: exception.status,
      };
    }
    const status =
      exception instanceof HttpException
        ? exception.getStatus()
        : isFastifyError(exception)
          ? exception.statusCode
          : HttpStatus.INTERNAL_SERVER_ERROR;
    const known = frameworkProblem(status, isFastifyError(exception) ? exception.code : undefined);
    if (known) {
      return known;
    }
    const code = STATUS_CODES[status];
    if (code) {
      return problemDocument(code);
    }
    this.logger.error({
      msg: 'unhandled error',
      requestId: request.id,
      method: request.method,
      route: request.routeOptions?.url,
      error: errorForLog(exception),
    });
    return {
      ...problemDocument('INTERNAL_ERROR', 'Something went wrong on our side.'),
      requestId: request.id,
    };
  }
}
