import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorCode, type ErrorCodeName } from './errors/app-error.js';

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
      ApiResponse({
        status,
        description: `problem+json with code ${list.join(' | ')}`,
        content: {
          'application/problem+json': {
            schema: { $ref: '#/components/schemas/Problem' },
            examples: Object.fromEntries(
              list.map((code) => [code, { value: { status, code, title: ErrorCode[code].title } }]),
            ),
          },
        },
      }),
    ),
  );
}
