import { AppError, type FieldProblem } from '../errors/app-error.js';

/** The deepest nesting of objects and arrays a JSON request body may have. */
export const MAX_JSON_DEPTH = 32;

/**
 * Keys that name an object's prototype machinery. No request field has one of these names, and a
 * body holding one must never reach code that copies it onto another object.
 */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** At most this many fields are listed in one answer, however many a body holds. */
const MAX_LISTED = 20;

/**
 * Whether JSON text nests objects and arrays deeper than `max`, found without parsing: the brackets
 * outside strings are counted. Exact for valid JSON; for invalid text the answer does not matter,
 * the parser refuses it anyway.
 */
export function jsonNestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) {
        i++; // the escaped character, which may be a quote
      } else if (c === 0x22 /* " */) {
        inString = false;
      }
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > max) {
        return true;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

/** The paths (`a.b`, `items.0.c`) of every key of `value` that names prototype machinery. */
export function prototypeKeyPaths(value: unknown, path = ''): string[] {
  if (typeof value !== 'object' || value === null) {
    return [];
  }
  // JSON.parse makes every key an own data property, "__proto__" included: Object.keys sees it.
  // Recursion is bounded by MAX_JSON_DEPTH, checked before parsing.
  return Object.keys(value).flatMap((key) => {
    const field = path ? `${path}.${key}` : key;
    return PROTOTYPE_KEYS.has(key)
      ? [field]
      : prototypeKeyPaths((value as Record<string, unknown>)[key], field);
  });
}

/**
 * Reads a JSON request body. A body nested deeper than MAX_JSON_DEPTH is refused before it is
 * parsed (400 MALFORMED_REQUEST), so nothing downstream recurses through it. A key such as
 * `__proto__` or `constructor` is refused as a field the API does not accept (400
 * VALIDATION_FAILED naming it), so no handler ever sees it; JSON.parse itself only creates own
 * properties and never touches a prototype.
 */
export function parseJsonBody(text: string): unknown {
  // Like Fastify's own parser: a leading byte order mark is not part of the document.
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (jsonNestingExceeds(source, MAX_JSON_DEPTH)) {
    throw new AppError(
      'MALFORMED_REQUEST',
      `The request body is nested deeper than ${MAX_JSON_DEPTH} levels.`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch {
    throw new AppError('MALFORMED_REQUEST', 'The request body is not valid JSON.');
  }
  const refused = prototypeKeyPaths(value);
  if (refused.length > 0) {
    const errors: FieldProblem[] = refused.slice(0, MAX_LISTED).map((field) => ({
      field,
      rule: 'whitelistValidation',
      message: `${field} is not an accepted field`,
    }));
    throw new AppError('VALIDATION_FAILED', 'Some fields are not valid; see errors.', { errors });
  }
  return value;
}
