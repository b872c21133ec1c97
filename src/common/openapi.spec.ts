import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { DECORATORS, type ResponseObject } from '@nestjs/swagger';
import { ApiProblems } from './openapi.js';

@ApiProblems('UNAUTHORIZED', 'PASSWORD_CHANGE_REQUIRED')
class ExampleController {
  @ApiProblems('VALIDATION_FAILED', 'INVALID_CREDENTIALS')
  @ApiProblems({ code: 'INVALID_TOTP_CODE', status: 401 })
  change(): string {
    return 'changed';
  }
}

function answers(target: object): Record<string, ResponseObject | undefined> {
  return Reflect.getMetadata(DECORATORS.API_RESPONSE, target) as Record<string, ResponseObject>;
}

function examplesOf(answer: ResponseObject | undefined): Record<string, { value?: unknown }> {
  return (answer?.content?.['application/problem+json']?.examples ?? {}) as Record<
    string,
    { value?: unknown }
  >;
}

describe('ApiProblems', () => {
  it("adds the controller's codes to a route's own answer of the same status", () => {
    const own = answers(ExampleController.prototype.change);
    expect(Object.keys(examplesOf(own['401']))).toEqual([
      'INVALID_TOTP_CODE',
      'INVALID_CREDENTIALS',
      'UNAUTHORIZED',
    ]);
    expect(own['401']?.description).toBe(
      'problem+json with code INVALID_TOTP_CODE | INVALID_CREDENTIALS | UNAUTHORIZED',
    );
    expect(Object.keys(examplesOf(own['400']))).toEqual(['VALIDATION_FAILED']);
    // No answer of its own: the controller's applies.
    expect(own['403']).toBeUndefined();
    expect(Object.keys(examplesOf(answers(ExampleController)['403']))).toEqual([
      'PASSWORD_CHANGE_REQUIRED',
    ]);
  });

  it('gives each example the fields of the problem document the filter writes', () => {
    const own = answers(ExampleController.prototype.change);
    expect(examplesOf(own['401']).INVALID_TOTP_CODE.value).toEqual({
      type: 'https://portcullis.dev/problems/invalid-totp-code',
      title: 'The code is not valid',
      status: 401,
      detail: 'The code is not valid.',
      code: 'INVALID_TOTP_CODE',
    });
    expect(examplesOf(own['400']).VALIDATION_FAILED.value).toMatchObject({
      status: 400,
      errors: [
        { field: expect.any(String), message: expect.any(String), rule: expect.any(String) },
      ],
    });
  });
});
