import { plainToInstance } from 'class-transformer';
import { LOCALES } from '../i18n/locales.js';
import {
  IsIn,
  IsOptional,
  IsString,
  Matches,
  registerDecorator,
  validateSync,
  type ValidationArguments,
  type ValidationError,
} from 'class-validator';
import { parseDuration } from './duration.js';

/** The levels LOG_LEVEL takes, most verbose last. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

/** `zero`: `0` is allowed too (it turns the feature off). */
function IsDuration({ zero = false } = {}): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isDuration',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          (parseDuration(value) !== undefined || (zero && value.trim() === '0')),
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property} must be integer seconds or <n>s|m|h|d (e.g. 300 or 5m)${zero ? ' or 0' : ''}, got "${String(args?.value)}"`,
      },
    });
}

/** A whole number written in decimal digits, within [min, max]: one clear message when it is not. */
function IsIntegerIn(min: number, max: number): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isIntegerIn',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          /^\d{1,10}$/.test(value) &&
          Number(value) >= min &&
          Number(value) <= max,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property} must be an integer from ${min} to ${max}, got "${String(args?.value)}"`,
      },
    });
}

/** Every environment variable Portcullis reads, validated once at boot. */
export class EnvironmentVariables {
  @IsOptional() @IsIntegerIn(0, 65535) PORT?: string;
  @IsOptional() @IsString() HOST?: string;
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, {
    message: 'PUBLIC_URL must be an absolute http(s) URL without query or fragment',
  })
  PUBLIC_URL?: string;
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'DATABASE_URL must be a postgres:// URL',
  })
  DATABASE_URL?: string;
  @IsOptional() @IsString() DATA_DIR?: string;
  @IsOptional()
  @Matches(/^smtps?:\/\/\S+$/, { message: 'SMTP_URL must be an smtp:// or smtps:// URL' })
  SMTP_URL?: string;
  @IsOptional() @IsString() MAIL_FROM?: string;
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{3,64}$/, {
    message: 'ADMIN_USERNAME must be 3-64 letters, digits, dots, dashes or underscores',
  })
  ADMIN_USERNAME?: string;
  @IsOptional() @IsString() ADMIN_PASSWORD?: string;
  @IsOptional()
  @Matches(/^[A-Za-z0-9+/]{43}=$/, {
    message:
      'ENCRYPTION_KEY must be 32 bytes encoded as base64 (44 characters, e.g. `openssl rand -base64 32`)',
  })
  ENCRYPTION_KEY?: string;
  @IsOptional() @IsString() JWT_PRIVATE_KEY?: string;
  @IsOptional() @IsString() JWT_PRIVATE_KEY_FILE?: string;
  @IsOptional() @IsDuration() ACCESS_TOKEN_TTL?: string;
  @IsOptional() @IsDuration() REFRESH_TOKEN_TTL?: string;
  @IsOptional() @IsDuration() SESSION_MAX_LIFETIME?: string;
  @IsOptional() @IsDuration({ zero: true }) SIGNING_KEY_ROTATION?: string;
  @IsOptional() @IsDuration({ zero: true }) MEMORY_TRIM_AFTER_IDLE?: string;
  @IsOptional() @IsDuration() TEMPORARY_PASSWORD_TTL?: string;
  @IsOptional() @IsDuration() PASSWORD_RESET_LINK_TTL?: string;
  @IsOptional() @IsDuration() PASSWORD_RESET_SESSION_TTL?: string;
  @IsOptional() @IsIn(['explicit', 'generic']) PASSWORD_RESET_DISCLOSURE?: string;
  @IsOptional() @IsDuration() EMAIL_VERIFICATION_TTL?: string;
  @IsOptional() @IsIntegerIn(1, 1024) PASSWORD_MIN_LENGTH?: string;
  @IsOptional() @IsIntegerIn(1, 4096) PASSWORD_MAX_LENGTH?: string;
  @IsOptional() @IsIntegerIn(0, 24) PASSWORD_HISTORY?: string;
  @IsOptional() @IsString() TOTP_ISSUER?: string;
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;
  @IsOptional()
  @Matches(/^[A-Za-z0-9:._-]{1,64}$/, {
    message: 'REDIS_KEY_PREFIX must be 1-64 letters, digits, colons, dots, dashes or underscores',
  })
  REDIS_KEY_PREFIX?: string;
  @IsOptional() @IsString() TRUST_PROXY?: string;
  @IsOptional() @IsIn(LOG_LEVELS) LOG_LEVEL?: string;
  @IsOptional() @IsIntegerIn(0, 65535) MANAGEMENT_PORT?: string;
  @IsOptional() @IsString() MANAGEMENT_HOST?: string;
  @IsOptional() @IsIn(['json', 'pretty']) LOG_FORMAT?: string;
  @IsOptional()
  @IsIn(LOCALES, { message: `DEFAULT_LOCALE must be one of: ${LOCALES.join(', ')}` })
  DEFAULT_LOCALE?: string;
}

export class InvalidSettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function flatten(errors: ValidationError[]): string[] {
  return errors.flatMap((e) =>
    Object.values(e.constraints ?? {}).map((m) => `${e.property}: ${m}`),
  );
}

/** Validates the raw environment; throws InvalidSettingsError naming every bad variable. */
export function validateEnvironment(raw: Record<string, string | undefined>): EnvironmentVariables {
  const present = Object.fromEntries(
    Object.entries(raw).filter(([, v]) => v !== undefined && v !== ''),
  );
  const env = plainToInstance(EnvironmentVariables, present, { enableImplicitConversion: false });
  const problems = flatten(
    validateSync(env, { whitelist: true, forbidUnknownValues: false, stopAtFirstError: true }),
  );
  const min = Number(env.PASSWORD_MIN_LENGTH ?? 8);
  const max = Number(env.PASSWORD_MAX_LENGTH ?? 128);
  if (problems.length === 0 && min > max) {
    problems.push(`PASSWORD_MIN_LENGTH (${min}) must not exceed PASSWORD_MAX_LENGTH (${max})`);
  }
  if (env.JWT_PRIVATE_KEY && env.JWT_PRIVATE_KEY_FILE) {
    problems.push('JWT_PRIVATE_KEY and JWT_PRIVATE_KEY_FILE: set one, not both');
  }
  if (problems.length > 0) {
    throw new InvalidSettingsError(problems);
  }
  return env;
}
