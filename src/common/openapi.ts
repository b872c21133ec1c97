import { applyDecorators } from '@nestjs/common';
import {
  ApiResponse,
  type OpenAPIObject,
  type OperationObject,
  type ResponseObject,
} from '@nestjs/swagger';
import { MAX_PATH_PARAMETER_LENGTH } from './errors/framework-errors.js';
import { ErrorCode, type ErrorCodeName } from './errors/app-error.js';
import { MAX_JSON_DEPTH } from './validation/json-body.js';

/** The problem+json answer of one status, listing the codes it may carry. */
function problemResponse(status: number, codes: ErrorCodeName[]): ResponseObject {
  return {
    description: `problem+json with code ${codes.join(' | ')}`,
    content: {
      'application/problem+json': {
        schema: { $ref: '#/components/schemas/Problem' },
        examples: Object.fromEntries(
          codes.map((code) => [code, { value: { status, code, title: ErrorCode[code].title } }]),
        ),
      },
    },
  };
}

/** Documents the problem+json answers a route can give, grouped by status, with their codes. */
export function ApiProblems(
  ...codes: (ErrorCodeName | [ErrorCodeName, number])[]
): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ErrorCodeName[]>();
  for (const entry of codes) {
    const [code, status] = typeof entry === 'string' ? [entry, ErrorCode[entry].status] : entry;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(
    ...[...byStatus.entries()].map(([status, list]) =>
      ApiResponse({ status, ...problemResponse(status, list) }),
    ),
  );
}

/** Adds `code` to the operation's problem answer of its status, creating the answer if needed. */
function addProblem(operation: OperationObject, code: ErrorCodeName): void {
  const status = ErrorCode[code].status;
  const existing = operation.responses[String(status)] as ResponseObject | undefined;
  const examples = existing?.content?.['application/problem+json']?.examples;
  if (existing && !examples) {
    return; // an answer of another kind with this status; leave it as the route describes it
  }
  const codes = Object.keys(examples ?? {}) as ErrorCodeName[];
  if (!codes.includes(code)) {
    operation.responses[String(status)] = problemResponse(status, [...codes, code]);
  }
}

/**
 * Answers that come from how a request is written rather than from what a route does, so no
 * controller declares them: a malformed, too deep, too large or non-JSON body on every route that
 * reads one, and an over-long path parameter on every route that has one.
 */
export function documentRequestProblems(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const operation of [item.get, item.put, item.post, item.patch, item.delete]) {
      if (!operation) {
        continue;
      }
      if (path.includes('{')) {
        addProblem(operation, 'URI_TOO_LONG');
      }
      if (operation.requestBody) {
        addProblem(operation, 'MALFORMED_REQUEST');
        addProblem(operation, 'PAYLOAD_TOO_LARGE');
        addProblem(operation, 'UNSUPPORTED_MEDIA_TYPE');
      }
    }
  }
}

/**
 * The global guard lets a request through without a token only on @Public() routes, and a route
 * that needs a token or a reset session says so with @ApiBearerAuth. So an operation that names no
 * security requirement is open: state it (`security: []`), as clients and linters cannot tell an
 * open route from one whose requirement was forgotten.
 */
export function documentOpenRoutes(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const operation of [item.get, item.put, item.post, item.patch, item.delete]) {
      if (operation && !operation.security) {
        operation.security = [];
      }
    }
  }
}

/** The rules every request follows, for the document's description. */
export function requestRules(bodyLimitBytes: number): string {
  return [
    '**Requests.** Bodies are JSON (`application/json`, UTF-8) of at most ' +
      `${Math.floor(bodyLimitBytes / 1024)} KiB (else \`413 PAYLOAD_TOO_LARGE\`), nesting objects ` +
      `and arrays at most ${MAX_JSON_DEPTH} levels deep (else \`400 MALFORMED_REQUEST\`).`,
    'A field the schema does not list (`__proto__`, `constructor` and `toString` included), ' +
      '`null` for a field the schema does not mark nullable, and a string that is not ' +
      'well-formed Unicode (a lone surrogate such as `\\ud800`) are refused with ' +
      '`400 VALIDATION_FAILED` naming the field.',
    'A URL that does not decode answers `400 MALFORMED_REQUEST`; a path parameter over ' +
      `${MAX_PATH_PARAMETER_LENGTH} characters \`414 URI_TOO_LONG\`; headers over the server's ` +
      'limit `431 HEADERS_TOO_LARGE`. Query integers are plain decimal digits.',
    '**Caching.** Every answer is `Cache-Control: no-store` unless its route says otherwise ' +
      '(the JWKS may be cached for a few minutes).',
  ].join(' ');
}

/** The stable codes, for the Problem schema: `CODE` (status): title. */
export function errorCodeList(): string {
  return Object.entries(ErrorCode)
    .map(([code, { status, title }]) => `\`${code}\` (${status}): ${title}`)
    .join('; ');
}
