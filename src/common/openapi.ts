import {
  DECORATORS,
  type OpenAPIObject,
  type OperationObject,
  type ResponseObject,
  type SchemaObject,
} from '@nestjs/swagger';
import { ErrorCode, type ErrorCodeName } from './errors/app-error.js';
import { MAX_PATH_PARAMETER_LENGTH } from './errors/framework-errors.js';
import { MAX_JSON_DEPTH } from './validation/json-body.js';
import { problemExample } from './openapi-examples.js';

/**
 * A problem answer a route documents: its code and, where the route differs from the code's
 * defaults, the status it answers with or the words it uses.
 */
export interface DocumentedProblem {
  code: ErrorCodeName;
  status?: number;
  detail?: string;
}

/** The problem+json answer of one status, with an example of each code it may carry. */
function problemResponse(status: number, problems: DocumentedProblem[]): ResponseObject {
  return {
    description: `problem+json with code ${problems.map((p) => p.code).join(' | ')}`,
    ...(status === 429
      ? {
          headers: {
            'Retry-After': {
              description: 'seconds to wait before the next attempt can succeed',
              schema: { type: 'integer', minimum: 1 },
            },
          },
        }
      : {}),
    content: {
      'application/problem+json': {
        schema: { $ref: '#/components/schemas/Problem' },
        examples: Object.fromEntries(
          problems.map((problem) => [problem.code, problemExample({ ...problem, status })]),
        ),
      },
    },
  };
}

const PROBLEMS = 'portcullis:api-problems';

function statusOf(problem: DocumentedProblem): number {
  return problem.status ?? ErrorCode[problem.code].status;
}

/** Records more problems for a route or a controller; returns all it has, each code once a status. */
function recordProblems(target: object, added: DocumentedProblem[]): DocumentedProblem[] {
  const all = [
    ...((Reflect.getMetadata(PROBLEMS, target) as DocumentedProblem[] | undefined) ?? []),
  ];
  for (const problem of added) {
    if (!all.some((p) => p.code === problem.code && statusOf(p) === statusOf(problem))) {
      all.push(problem);
    }
  }
  Reflect.defineMetadata(PROBLEMS, all, target);
  return all;
}

/**
 * Sets the problem answers of `statuses` on a route handler or a controller class, in Swagger's
 * own metadata (what @ApiResponse writes), replacing what was there: @ApiResponse would append a
 * second description to the first.
 */
function setProblemAnswers(
  target: object,
  problems: DocumentedProblem[],
  statuses = new Set(problems.map(statusOf)),
): void {
  const answers = {
    ...(Reflect.getMetadata(DECORATORS.API_RESPONSE, target) as object | undefined),
  } as Record<number, ResponseObject>;
  for (const status of statuses) {
    answers[status] = problemResponse(
      status,
      problems.filter((p) => statusOf(p) === status),
    );
  }
  Reflect.defineMetadata(DECORATORS.API_RESPONSE, answers, target);
}

/**
 * Documents the problem+json answers a route can give, grouped by status, with their codes. On a
 * controller, for every route: Swagger lets a route's own answer of a status replace the
 * controller's answer of that status, so such a route gets the controller's codes added to its
 * own (a route that checks the password answers 401 INVALID_CREDENTIALS, and 401 UNAUTHORIZED
 * without a token, like every route of its controller).
 */
export function ApiProblems(
  ...entries: (ErrorCodeName | DocumentedProblem)[]
): MethodDecorator & ClassDecorator {
  const problems = entries.map((entry) => (typeof entry === 'string' ? { code: entry } : entry));
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor) {
      const handler = descriptor.value as object;
      setProblemAnswers(handler, recordProblems(handler, problems));
      return;
    }
    const controller = target as { prototype: object };
    setProblemAnswers(controller, recordProblems(controller, problems));
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = Object.getOwnPropertyDescriptor(controller.prototype, name)?.value as unknown;
      if (typeof handler !== 'function') {
        continue;
      }
      const own = Reflect.getMetadata(PROBLEMS, handler) as DocumentedProblem[] | undefined;
      const shared = new Set((own ?? []).map(statusOf));
      const added = problems.filter((p) => shared.has(statusOf(p)));
      if (added.length > 0) {
        setProblemAnswers(handler, recordProblems(handler, added), shared);
      }
    }
  };
}

/** Adds `code` to the operation's problem answer of its status, creating the answer if needed. */
function addProblem(operation: OperationObject, code: ErrorCodeName): void {
  const status = ErrorCode[code].status;
  const existing = operation.responses[String(status)] as ResponseObject | undefined;
  const examples = existing?.content?.['application/problem+json']?.examples;
  if (existing && !examples) {
    return; // an answer of another kind with this status; leave it as the route describes it
  }
  if (!existing || !examples) {
    operation.responses[String(status)] = problemResponse(status, [{ code }]);
    return;
  }
  if (!(code in examples)) {
    examples[code] = problemExample({ code, status });
    existing.description = `${existing.description} | ${code}`;
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
      if (path.startsWith('/api/') && !NO_DEPENDENCY.has(path)) {
        // The database (or Redis, for attempt counters) cannot be reached: see unavailable.ts.
        addProblem(operation, 'SERVICE_UNAVAILABLE');
      }
    }
  }
}

/** API routes answered from memory alone: they work while the database is away. */
const NO_DEPENDENCY = new Set(['/api/v1/password-policy']);

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

/** RFC 9457 problem details, as the global exception filter writes them. */
export function problemSchema(): SchemaObject {
  return {
    type: 'object',
    required: ['type', 'title', 'status', 'detail', 'code'],
    properties: {
      type: {
        type: 'string',
        format: 'uri',
        description: 'a URI naming the code, e.g. https://portcullis.dev/problems/not-found',
      },
      title: { type: 'string', description: "the code's fixed title" },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: { type: 'string', description: 'what went wrong this time, for people' },
      code: {
        type: 'string',
        // Not an enum: new codes may be added, and a generated client must not fail on them.
        description: `stable UPPER_SNAKE identifier; the codes so far: ${errorCodeList()}`,
      },
      errors: {
        type: 'array',
        description: 'with VALIDATION_FAILED and PASSWORD_POLICY_VIOLATION: each broken rule',
        items: {
          type: 'object',
          required: ['field', 'message'],
          properties: {
            field: { type: 'string' },
            message: { type: 'string' },
            rule: { type: 'string' },
          },
        },
      },
      requestId: {
        type: 'string',
        description: 'with INTERNAL_ERROR only: the id under which the error was logged',
      },
    },
  };
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
