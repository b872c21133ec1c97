import type { Type } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import type { FieldProblem } from '../errors/app-error.js';
import { isNullable } from './nullable.decorator.js';

/** At most this many problems are listed in one answer, however many fields a request holds. */
export const MAX_LISTED_PROBLEMS = 20;

function join(path: string, key: string): string {
  // A key may itself be ill-formed; the field name in the answer must not be.
  const name = key.toWellFormed();
  return path ? `${path}.${name}` : name;
}

/**
 * Every string in `value` (keys included) that is not well-formed Unicode, i.e. holds a lone
 * surrogate such as "\ud800". Such a string cannot be encoded as UTF-8: validators throw on it,
 * and hashing turns each lone surrogate into U+FFFD, so "\ud800" and "\udfff" would be the same
 * password. Iterative, so any depth is safe.
 */
export function illFormedStrings(value: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const stack: { path: string; value: unknown }[] = [{ path: '', value }];
  const seen = new Set<object>();
  while (stack.length > 0 && problems.length < MAX_LISTED_PROBLEMS) {
    const { path, value: current } = stack.pop() as { path: string; value: unknown };
    if (typeof current === 'string') {
      if (!current.isWellFormed()) {
        const field = path || 'body';
        problems.push({
          field,
          rule: 'isWellFormed',
          message: `${field} must be well-formed Unicode text (it holds a lone surrogate)`,
        });
      }
      continue;
    }
    if (typeof current !== 'object' || current === null || seen.has(current)) {
      continue;
    }
    seen.add(current);
    for (const key of Object.keys(current)) {
      const field = join(path, key);
      if (!key.isWellFormed()) {
        problems.push({
          field,
          rule: 'isWellFormed',
          message: `the name of ${field} must be well-formed Unicode text`,
        });
        continue;
      }
      stack.push({ path: field, value: (current as Record<string, unknown>)[key] });
    }
  }
  return problems;
}

const declaredCache = new WeakMap<Type<unknown>, Set<string>>();

/** The fields a DTO class declares (with validation rules), its parents' included. */
export function declaredFields(type: Type<unknown>): Set<string> {
  let fields = declaredCache.get(type);
  if (!fields) {
    fields = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(type, '', false, false)
        .map((metadata) => metadata.propertyName),
    );
    declaredCache.set(type, fields);
  }
  return fields;
}

/**
 * The top-level fields of a body or query that its DTO does not accept: a key the DTO does not
 * declare, or `null` for a field not marked @Nullable(). Keys are compared as own properties
 * against a Set: class-validator's whitelist looks keys up in a plain object, where
 * `constructor` and `toString` are found on Object.prototype, and class-transformer silently
 * drops such keys, so they would pass unreported.
 */
export function undeclaredOrNullFields(
  body: Record<string, unknown>,
  type: Type<unknown>,
): FieldProblem[] {
  const declared = declaredFields(type);
  const problems: FieldProblem[] = [];
  for (const key of Object.keys(body)) {
    if (problems.length >= MAX_LISTED_PROBLEMS) {
      break;
    }
    if (!declared.has(key)) {
      problems.push({
        field: key,
        rule: 'whitelistValidation',
        message: `${key} is not an accepted field`,
      });
    } else if (body[key] === null && !isNullable(type, key)) {
      problems.push({ field: key, rule: 'notNull', message: `${key} must not be null` });
    }
  }
  return problems;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What a body or query shows before class-transformer and class-validator may see it: the
 * problems, and the top-level keys they concern (`undefined`: the value as a whole, e.g. a bare
 * ill-formed string). The other keys can still go through the libraries, so that one answer
 * lists every offending field.
 */
export function precheck(
  value: unknown,
  type: Type<unknown>,
): { problems: FieldProblem[]; keys: Set<string> | undefined } {
  if (!isRecord(value)) {
    const problems = illFormedStrings(value);
    return { problems, keys: problems.length > 0 ? undefined : new Set() };
  }
  const problems: FieldProblem[] = [];
  const keys = new Set<string>();
  for (const key of Object.keys(value)) {
    // The key is checked too; a computed key is an own property, even "__proto__".
    const found = illFormedStrings({ [key]: value[key] });
    if (found.length > 0) {
      problems.push(...found);
      keys.add(key);
    }
  }
  for (const problem of undeclaredOrNullFields(value, type)) {
    if (!keys.has(problem.field)) {
      problems.push(problem);
      keys.add(problem.field);
    }
  }
  return { problems: problems.slice(0, MAX_LISTED_PROBLEMS), keys };
}
