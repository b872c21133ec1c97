import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  frameworkProblem,
  problemDocument,
  type ProblemDocument,
} from './problem-details.filter.js';

/** The longest path parameter the router accepts (a user id is 36 characters). */
export const MAX_PATH_PARAMETER_LENGTH = 100;

type AnswerObserver = (request: FastifyRequest, reply: FastifyReply) => void;
const observers = new WeakMap<FastifyInstance, AnswerObserver>();

/**
 * Fastify runs no hook for the answers of answerFrameworkError: `observe` (the request's log line
 * and metrics, which the app's onResponse hook gives every other answer) is called for them here.
 */
export function observeFrameworkAnswers(server: FastifyInstance, observe: AnswerObserver): void {
  observers.set(server, observe);
}

/**
 * Fastify's router answers a URL it cannot decode (FST_ERR_BAD_URL) or a path parameter over
 * MAX_PATH_PARAMETER_LENGTH (FST_ERR_MAX_PARAM_LENGTH) before any hook or Nest filter runs: this
 * answers them as problem documents, with the headers every answer carries.
 */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const problem: ProblemDocument =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? problemDocument(
          'URI_TOO_LONG',
          `A part of the URL path is longer than ${MAX_PATH_PARAMETER_LENGTH} characters.`,
        )
      : (frameworkProblem(error.statusCode ?? 500, error.code) ??
        // FST_ERR_ASYNC_CONSTRAINT, from a route constraint of ours: none is asynchronous today.
        problemDocument('INTERNAL_ERROR', 'Something went wrong on our side.'));
  const observe = observers.get(request.server);
  if (observe) {
    reply.raw.once('finish', () => observe(request, reply));
  }
  void reply
    .code(problem.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-request-id', request.id)
    .send(JSON.stringify(problem));
}

/**
 * Node's HTTP parser refuses a request it cannot read (bad syntax, headers over the size limit, a
 * request that does not arrive in time) before Fastify sees it; Fastify's default answer is a
 * JSON body of its own. This writes a problem document instead, then closes the connection.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) {
    return;
  }
  const problem =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? problemDocument('REQUEST_TIMEOUT', 'The request did not arrive in time.')
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? problemDocument(
            'HEADERS_TOO_LARGE',
            'The request line and headers exceed the size limit.',
          )
        : problemDocument('MALFORMED_REQUEST', 'The request is not valid HTTP.');
  const body = JSON.stringify(problem);
  if (socket.writable) {
    socket.write(
      [
        `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}`,
        'Content-Type: application/problem+json; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Cache-Control: no-store',
        `X-Request-Id: ${randomUUID()}`,
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  }
  socket.destroy(error);
}
