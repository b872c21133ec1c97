import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { Locale } from '../i18n/locales.js';
import { parseDuration } from './duration.js';
import { InvalidSettingsError, LOG_LEVELS, validateEnvironment } from './env.validation.js';

export type LogLevel = (typeof LOG_LEVELS)[number];
/** `json`: one JSON object per line (production, files, pipes); `pretty`: readable lines on a terminal. */
export type LogFormat = 'json' | 'pretty';
export type ResetDisclosure = 'explicit' | 'generic';

/** The typed settings, read once from the environment. Namespaces match ConfigService keys. */
export interface Settings {
  http: {
    port: number;
    host: string;
    publicUrl: string;
    /**
     * Which hops of X-Forwarded-For to believe: false = none (the socket's peer is the client);
     * a number n = the n proxies nearest to us (`TRUST_PROXY=true` is 1); a list = proxies by
     * address/CIDR. The client is the rightmost address not trusted, never what it wrote itself.
     */
    trustProxy: false | number | string[];
    bodyLimitBytes: number;
  };
  /** The operators' listener (/health/*, /metrics); port 0 means off. */
  management: { port: number; host: string };
  database: { url: string | undefined; dataDir: string };
  secrets: {
    encryptionKey: string | undefined;
    jwtPrivateKey: string | undefined;
    jwtPrivateKeyFile: string | undefined;
  };
  admin: { username: string; password: string | undefined };
  /** Seconds. A session ends `sessionMaxLifetime` after sign-in, however often it is refreshed. */
  tokens: {
    accessTtl: number;
    refreshTtl: number;
    sessionMaxLifetime: number;
    /** Seconds between automatic signing-key rotations; 0 = only by hand. */
    signingKeyRotation: number;
  };
  reset: { linkTtl: number; sessionTtl: number; disclosure: ResetDisclosure };
  /** Seconds the link that confirms a new email address can be used. */
  emailVerification: { ttl: number };
  /** `temporaryTtl`: seconds a temporary password (set by an admin) keeps working. */
  password: { minLength: number; maxLength: number; history: number; temporaryTtl: number };
  mail: { smtpUrl: string | undefined; from: string };
  totp: { issuer: string };
  /** `keyPrefix` starts every key Portcullis writes, so that deployments can share one Redis. */
  redis: { url: string | undefined; keyPrefix: string };
  log: { level: LogLevel; format: LogFormat };
  /** The language of pages and mails when nothing else decides (DEFAULT_LOCALE). */
  i18n: { defaultLocale: Locale };
  /** Seconds of an idle event loop after which grown memory is given back; 0 = never. */
  memory: { trimAfterIdle: number };
}

function durationOr(text: string | undefined, fallback: string): number {
  return parseDuration(text ?? fallback) as number;
}

/**
 * `true` means one proxy hop, not "believe every hop": with every hop trusted the client address
 * would be the leftmost X-Forwarded-For entry, which the client writes itself, so each attempt
 * could pick a fresh rate-limit bucket. A number is a hop count, for a chain of proxies.
 */
function parseTrustProxy(text: string | undefined): false | number | string[] {
  if (text === undefined || text === 'false' || text === '0') {
    return false;
  }
  if (text === 'true') {
    return 1;
  }
  if (/^\d{1,2}$/.test(text)) {
    return Number(text);
  }
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = entries.filter((e) => !isIP(e.split('/')[0]));
  if (bad.length > 0 || entries.length === 0) {
    throw new InvalidSettingsError([
      `TRUST_PROXY: must be true, false, a number of proxy hops or a comma-separated list of addresses/CIDRs, got "${text}"`,
    ]);
  }
  return entries;
}

/** Validates the environment and builds the typed settings. Throws InvalidSettingsError. */
export function loadSettings(
  raw: Record<string, string | undefined>,
  output: { isTerminal: boolean } = { isTerminal: false },
): Settings {
  const env = validateEnvironment(raw);
  const port = Number(env.PORT ?? 3000);
  const host = env.HOST ?? '0.0.0.0';
  if (env.DATABASE_URL && !env.ENCRYPTION_KEY) {
    throw new InvalidSettingsError([
      'ENCRYPTION_KEY: required when DATABASE_URL is set (32 bytes, base64: `openssl rand -base64 32`); ' +
        'every replica must share it, so it is never generated in this mode',
    ]);
  }
  return {
    http: {
      port,
      host,
      publicUrl: (env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
      trustProxy: parseTrustProxy(env.TRUST_PROXY),
      bodyLimitBytes: 64 * 1024,
    },
    management: { port: Number(env.MANAGEMENT_PORT ?? 9000), host: env.MANAGEMENT_HOST ?? host },
    database: { url: env.DATABASE_URL, dataDir: resolve(env.DATA_DIR ?? './var') },
    secrets: {
      encryptionKey: env.ENCRYPTION_KEY,
      jwtPrivateKey: env.JWT_PRIVATE_KEY,
      jwtPrivateKeyFile: env.JWT_PRIVATE_KEY_FILE,
    },
    admin: { username: env.ADMIN_USERNAME ?? 'admin', password: env.ADMIN_PASSWORD },
    tokens: {
      accessTtl: durationOr(env.ACCESS_TOKEN_TTL, '15m'),
      refreshTtl: durationOr(env.REFRESH_TOKEN_TTL, '7d'),
      sessionMaxLifetime: durationOr(env.SESSION_MAX_LIFETIME, '30d'),
      signingKeyRotation:
        env.SIGNING_KEY_ROTATION?.trim() === '0' ? 0 : durationOr(env.SIGNING_KEY_ROTATION, '90d'),
    },
    reset: {
      linkTtl: durationOr(env.PASSWORD_RESET_LINK_TTL, '5m'),
      sessionTtl: durationOr(env.PASSWORD_RESET_SESSION_TTL, '10m'),
      disclosure: (env.PASSWORD_RESET_DISCLOSURE ?? 'explicit') as ResetDisclosure,
    },
    emailVerification: { ttl: durationOr(env.EMAIL_VERIFICATION_TTL, '24h') },
    password: {
      minLength: Number(env.PASSWORD_MIN_LENGTH ?? 8),
      maxLength: Number(env.PASSWORD_MAX_LENGTH ?? 128),
      history: Number(env.PASSWORD_HISTORY ?? 3),
      temporaryTtl: durationOr(env.TEMPORARY_PASSWORD_TTL, '7d'),
    },
    mail: { smtpUrl: env.SMTP_URL, from: env.MAIL_FROM ?? 'Portcullis <no-reply@localhost>' },
    totp: { issuer: env.TOTP_ISSUER ?? 'Portcullis' },
    redis: { url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX ?? 'portcullis:' },
    log: {
      level: (env.LOG_LEVEL ?? 'info') as LogLevel,
      format: (env.LOG_FORMAT ??
        (output.isTerminal && raw.NODE_ENV !== 'production' ? 'pretty' : 'json')) as LogFormat,
    },
    i18n: { defaultLocale: (env.DEFAULT_LOCALE ?? 'en') as Locale },
    memory: {
      trimAfterIdle:
        env.MEMORY_TRIM_AFTER_IDLE?.trim() === '0'
          ? 0
          : durationOr(env.MEMORY_TRIM_AFTER_IDLE, '1s'),
    },
  };
}

/** The process's own environment: the only place (besides tests) settings come from. */
export function settingsFromEnvironment(): Settings {
  return loadSettings(process.env, { isTerminal: process.stdout.isTTY });
}
